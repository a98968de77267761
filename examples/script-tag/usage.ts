// What a page that loads the widget with a script tag writes against `window.sottovoce`
// (types: sottovoce/global). Only type-checked (tsc --strict); the widget's behaviour is tested
// in tests/e2e. Each `@ts-expect-error` is a misuse the types must reject.
const widget = window.sottovoce;
if (widget) {
  const off = widget.on("message", (m) => {
    const who: "visitor" | "bot" | "agent" = m.from;
    console.log(who, m.text.toUpperCase(), m.quickReplies.map((q) => q.label), m.links.map((l) => l.url));
  });
  widget.on("intent", (e) => console.log(e.intent ?? "fallback", e.confidence?.toFixed(2), e.ranking[0]?.intent, e.handoff));
  widget.on("ready", (e) => console.log(e.botName, e.storage === "memory", e.source, e.loadMs.toFixed(0)));
  widget.on("error", (e) => console.error(e.message));
  widget.on("products", (e) => console.log("compare" in e ? e.compare.join(" vs ") : e.request, e.products.length));
  widget.on("proactive:shown", (e) => console.log(e.trigger, e.text, e.preview));
  widget.on("proactive:dismissed", (e) => console.log(e.trigger, e.noTips));
  widget.on("forget", (e) => console.log(e.serverHasCopy));
  off();

  widget.open();
  widget.close();
  widget.send("where is my order?").then((turn) => {
    if (turn && !("toAgent" in turn)) console.log(turn.intent, turn.messages.map((m) => m.text));
  });
  void widget.reset();
  void widget.identify({ id: "c-1", name: "Ada", orders: [{ id: "A-1", status: "shipped" }] });
  void widget.track("product_view", { name: "Trail shoe" });
  void widget.setLocale("es").then((locale) => console.log(locale.toUpperCase()));
  widget.hide();
  widget.show();
  widget.configureEscalation({ url: "/", profileFields: ["name", "locale"], redact: ["\\d{3}-\\d{2}-\\d{4}"] });

  // @ts-expect-error: no such event
  widget.on("typing", () => {});
  // @ts-expect-error: a message's text is a string, not a number
  widget.on("message", (m) => m.text.toFixed(1));
  // @ts-expect-error: a comparison has no request
  widget.on("products", (e) => e.request);
  // @ts-expect-error: the global is frozen
  window.sottovoce = undefined;
}
