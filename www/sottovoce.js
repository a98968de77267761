/*
 * sottovoce.js: the script-tag widget. One tag on any page adds a chat launcher and panel whose
 * bot runs in the visitor's browser (WebAssembly; nothing typed leaves the page).
 *
 *   <script src="/sottovoce.js" data-bot="/bots/store.svm" defer></script>
 *
 * Attributes: data-bot (required: a model file from `sottovoce build`, or definition JSON, which
 * is then trained in the page), data-pkg (the npm package's sottovoce.js; default: pkg/ beside
 * this script; a model is run by that runtime build, definition JSON by sottovoce_full.js beside
 * it, which also holds the training code and is fetched only then; a bot whose definition sets
 * `word_vectors` also fetches pkg/vectors-<name>.svvec once, other bots never do; one built
 * with the accuracy tier's encoder, `sottovoce build --encoder`, loads sottovoce_encoder.js and
 * the bot's <stem>.sven, kept in the Cache API), data-locale
 * (the visitor's language; default: navigator.languages), data-locales (the bot's locales, for
 * the language menu), data-load ("idle", the default: load
 * the bot once the page has loaded and is idle; "open": only when the chat is opened),
 * data-catalog (optional: the shop's product catalog, compiled by `sottovoce build --catalog`
 *   (.svc) or as JSONL, fetched the first time an
 * intent with the `recommend` action answers; up to three product cards follow its reply).
 *
 * Escalation to a person (optional): data-escalation-url (the escalation server's base URL, e.g.
 * "/" when `sottovoce serve` serves the page), data-escalation-fields (profile fields the owner
 * allows, comma-separated; default name, locale, visits), data-escalation-redact (a JSON array
 * of extra patterns to redact; card numbers always are). Or call
 * window.sottovoce.configureEscalation({ url, profileFields, redact }) before the visitor asks.
 * When a turn hands off to a person, the visitor sees exactly what would be sent and agrees
 * first; the escalation is then kept in localStorage and sent with retries and backoff, agent
 * replies arrive over Server-Sent Events, and the visitor's messages go to the agent. Without a
 * URL the bot's own contact options are the answer. data-kpis="on" (with an escalation URL)
 * sends each conversation's key figures to the owner's dashboard: counts only, never text.
 *
 * Languages: the widget's own words ("Open chat", "Send"…), its lang and dir, and the numbers,
 * dates and prices it shows follow the conversation's locale: before the bot answers, the
 * visitor's browser languages (or data-locale) matched to the bot's locales (es-ES → es), then
 * the page's <html lang>, then the bot's first locale; afterwards the locale the bot answers in,
 * so they switch when the visitor does. English words are built in; es, fr, de, pt-BR and ar
 * come from l10n/<code>.json beside this script, fetched only when needed. Right-to-left locales
 * (ar, he, fa, ur…) get dir="rtl" and the launcher at the inline end (the left). data-locales
 * (e.g. "en es") lists the bot's locales for the header's language menu until the binding can
 * (chat.locales()); a choice there goes to the core through chat.setLocale(code) when the
 * binding has it, else it changes the widget's own words only.
 *
 * Everything lives in an open Shadow DOM. Text is rendered with text nodes only, links only for
 * http, https, mailto and tel, and styles come from sottovoce.css beside this script, so the
 * widget works under a CSP of `script-src 'self' 'wasm-unsafe-eval'; style-src 'self'`.
 *
 * Look (README, "Every script-tag attribute" and "Theming"): data-position, data-color,
 * data-launcher-label, data-launcher-icon, data-greeting-delay, data-open, data-theme; the page
 * themes the widget with custom properties on #sottovoce-widget and ::part() (launcher, panel…).
 *
 * The page gets one frozen global: window.sottovoce = { open, close, send, reset, on, identify,
 * track, setLocale, show, hide, destroy } (identify(customer): the site's logged-in customer and
 * orders; track(event, {name}): product views, cart and purchases; both kept on the device only;
 * setLocale(code): the chat's language; show()/hide(): the launcher; destroy(): the widget leaves
 * the page, its storage stays).
 * Events for on(name, handler): "message" ({from, text, id, quickReplies, links}), "intent"
 * ({text, intent, confidence, ranking, entities, locale}), "ready" ({botName, storage, source,
 * loadMs}), "open", "close", "error" ({message}), "forget" ({serverHasCopy}: the visitor chose
 * Forget me under What I remember), "products" ({request, related, products: ids} shown for a
 * request or, with `related`, for what goes with that product; {compare: ids, products: []} for
 * a comparison), "proactive:shown" ({trigger, text, preview}), "proactive:clicked" ({trigger}) and
 * "proactive:dismissed" ({trigger, noTips}) for the teasers of the bot's `triggers` (see the
 * proactive section below; ?sottovoce-trigger=<id> on a page previews one), "submission" ({kind,
 * fields}: the visitor pressed Send under a finished lead, newsletter or back-in-stock form).
 * on() returns a function that unsubscribes.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.sottovoce) return; // loaded twice: the first copy stays in charge

  // The widget's own words. English is here; the other languages it speaks are fetched from
  // l10n/<code>.json beside this script, only when the conversation is in that language (each
  // about 1 KB gzip; until it arrives, or if it cannot, the words are English). Plain strings
  // ("{0}" is filled in): tests/e2e/l10n.test.mjs checks that every table has every English key.
  var UI = {
    en: {
      language: "Language",
      open: "Open chat",
      close: "Close chat",
      send: "Send",
      message: "Message",
      placeholder: "Type your question…",
      startOver: "Start over",
      products: "Products",
      viewProduct: "View product",
      outOfStock: "Out of stock",
      comparison: "Comparison",
      price: "Price",
      inStock: "In stock",
      goesWith: "Goes well with it",
      // Buttons under product cards; the core reads them as follow-ups in each language.
      productGoesWith: "What goes with it?",
      productCheaper: "Something cheaper?",
      remembered: "What I remember",
      rememberedIntro: "What this chat keeps about you, on this device only:",
      rememberedNothing: "Nothing yet.",
      forget: "Forget",
      forgetMe: "Forget me",
      forgotten: "Everything this site's chat stored about you on this device was deleted.",
      serverCopy: "Our support team still has the conversation you sent them; ask them there to delete it.",
      kpiNote: "This site counts conversations anonymously: no text, nothing that links them to you.",
      helpful: "Was this helpful?",
      helpfulYes: "Yes, helpful",
      helpfulNo: "No, not helpful",
      helpfulThanks: "Thanks. I'll remember that on this device.",
      taught_fact: "You taught me",
      taughtMeant: "meant",
      taughtNotMeant: "did not mean",
      shareOffer: "Share this question with the shop so the bot can learn",
      shareIntro: "Only this will be sent, without your name or the rest of the conversation:",
      shareSend: "Share it",
      shareCancel: "Not now",
      shareSent: "Sent. Thank you!",
      shareFailed: "It could not be sent. Nothing was kept.",
      name_fact: "Your name",
      product_fact: "You asked about",
      activity_fact: "Your activity",
      size_fact: "Your size",
      language_fact: "Your language",
      budget_fact: "Your budget",
      season_fact: "Your season",
      order_number_fact: "Your order",
      customer_fact: "Your account",
      viewed_fact: "You looked at",
      in_cart_fact: "In your cart",
      bought_fact: "You bought",
      topic_fact: "Still open",
      no_tips_fact: "You turned tips off",
      siteGiven: "given by this site",
      saidInChat: "said in chat",
      saidInChatOn: "said in chat, {0}",
      conversation: "Conversation",
      starting: "One moment, the assistant is starting…",
      unavailable: "The assistant can't answer right now. Please try again in a little while.",
      notSent: "That message wasn't sent, but it's still in the box. Please try again.",
      memoryOnly: "This chat won't be remembered after you leave this page.",
      fallbackName: "Chat",
      suggestions: "Suggestions",
      consentTitle: "Talk to a person",
      consentIntro: "Only this will be sent to our support team:",
      consentProfile: "About you:",
      consentAgree: "Connect me",
      consentCancel: "Not now",
      notUnderstood: "not understood",
      escQueued: "Waiting to reach our team…",
      escSending: "Connecting you to our team…",
      escRetry: "Couldn't reach our team yet. Retrying in {0} s; your messages are kept.",
      escSent: "Sent to our team. A person will answer here.",
      escResolved: "Our team closed this conversation. The assistant is back.",
      escRejected: "Our team's server could not accept this conversation, so it was not sent. Your messages are kept here, and the assistant is back.",
      // A finished form the visitor may send to the shop (a lead, a sign-up, a stock alert).
      submitTitle: "Send to the shop",
      submitIntro: "Only this will be sent to the shop, and only if you press Send:",
      submitSend: "Send",
      submitCancel: "Don't send",
      submitSending: "Sending…",
      submitRetrying: "Couldn't reach the shop yet; trying again…",
      submitSent: "Sent. Thank you!",
      submitHanded: "Passed to the shop. Thank you!",
      submitRefused: "The shop could not accept this, so nothing was kept.",
      submitFailed: "Couldn't reach the shop; nothing was sent. Please try again later.",
      submitNotSent: "Nothing was sent.",
      field_email: "Email",
      field_what: "For",
      field_when: "When",
      field_budget: "Budget",
      field_product: "Product",
      // Nobody online (GET /api/availability) and email continuity.
      offline: "Nobody from our team is online right now.",
      offlineAt: "You can expect an answer from {0}.",
      offlineLater: "You will get an answer as soon as someone is back.",
      emailOffer: "Rather not wait here? We can email you the answer, and you can reply to that email.",
      emailAddress: "Your email",
      emailConsent: "I agree that the support team writes to this address about this conversation.",
      emailSend: "Email me",
      emailNeedsConsent: "Tick the box to agree first; we only write to you with your yes.",
      emailInvalid: "That does not look like an email address.",
      emailFailed: "That did not work; please try again.",
      emailGiven: "We will write to {0} when someone answers. The email has a link back to this conversation.",
      emailTranscript: "Email me this conversation",
      transcriptSent: "Sent to {0}.",
      resumeExpired: "This conversation link has expired or is wrong; ask for a person again if you still need one.",
      resumeFailed: "Could not reopen the conversation from the link; please try again later.",
      escMessageRejected: "A message could not be delivered to our team and will not be resent; it stays in your conversation.",
      // Read before each message by screen readers (visually hidden), so the log says who spoke.
      visitor_speaker: "You:",
      bot_speaker: "Assistant:",
      agent_speaker: "Support agent:",
      unread: "Unread messages: {0}",
      // Proactive teasers beside the launcher.
      teaser: "A tip from the assistant",
      teaserOpen: "Open the chat about this tip",
      teaserDismiss: "Dismiss tip",
      noTips: "No tips",
    },
  }; // end of UI
  // The languages the widget has words for, by their own names (the language menu's items).
  var NAMES = { en: "English", es: "Español", fr: "Français", de: "Deutsch", "pt-BR": "Português (Brasil)", ar: "العربية" };
  var SVG = "http://www.w3.org/2000/svg";

  var base = new URL(".", script.src);
  var botAttr = script.getAttribute("data-bot");
  var botUrl = botAttr ? new URL(botAttr, document.baseURI).href : null;
  var pkgUrl = new URL(script.getAttribute("data-pkg") || "pkg/sottovoce.js", base).href;
  var pkgFullUrl = new URL("sottovoce_full.js", pkgUrl).href; // the build that trains definitions
  var pkgEncoderUrl = new URL("sottovoce_encoder.js", pkgUrl).href; // the accuracy tier's encoder
  var cssUrl = new URL("sottovoce.css", base).href;
  // The product catalog (JSONL), fetched the first time a turn recommends products.
  var catalogAttr = script.getAttribute("data-catalog");
  var catalogUrl = catalogAttr ? new URL(catalogAttr, base).href : null;
  var uiKey = "sottovoce:v1:ui:" + (botUrl ? new URL(botUrl).pathname : "");

  // ---------------------------------------------------------------- the conversation's locale

  // The chrome speaks the conversation's locale: the one the core replies in (chat.locale()) once
  // the bot is loaded; before that the visitor's browser languages (or data-locale), then the
  // page's <html lang>, then the bot's first locale, each matched to the bot's locales by
  // language/region fallback. A choice in the language menu goes to the core
  // (chat.setLocale(code)); with a binding that lacks it, it changes the chrome only.
  var dataLocales = (script.getAttribute("data-locales") || "").split(/[\s,]+/).filter(Boolean);
  var visitorLanguages = script.getAttribute("data-locale") ? [script.getAttribute("data-locale")] :
    (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""]);
  var RTL = /^(ar|he|iw|fa|ur|ps|yi|dv|ckb|sd|ug)(-|$)/i;

  // The first of `wanted` (BCP 47 tags, best first) that `available` has: the same tag, else the
  // bare language (es-ES → es), else the same language in another region (pt-PT → pt-BR); null
  // when none matches.
  function bestLocale(wanted, available) {
    var lower = available.map(function (a) { return a.toLowerCase(); });
    for (var i = 0; i < wanted.length; i++) {
      var w = String(wanted[i] || "").toLowerCase().replace(/_/g, "-");
      var lang = w.split("-")[0];
      if (!lang) continue;
      var at = lower.indexOf(w);
      if (at < 0) at = lower.indexOf(lang);
      if (at < 0) at = lower.findIndex(function (a) { return a.split("-")[0] === lang; });
      if (at >= 0) return available[at];
    }
    return null;
  }

  // The bot's locales, best known: the binding's list when it has one, else data-locales, else
  // the conversation's own locale (or, before the bot is loaded, the locales the widget speaks).
  function botLocales() {
    try {
      if (chat && typeof chat.locales === "function") {
        var list = Array.from(chat.locales() || []);
        if (list.length) return list;
      }
    } catch (e) { /* an older binding: fall through */ }
    var current = chat ? [chat.locale()] : [];
    if (dataLocales.length) return dataLocales.concat(current.filter(function (l) { return dataLocales.indexOf(l) < 0; }));
    return chat ? current : Object.keys(NAMES);
  }

  var initialLocale = (function () {
    var available = botLocales();
    return bestLocale(visitorLanguages, available) || bestLocale([document.documentElement.lang], available) || available[0];
  })();
  // What the core is told the visitor speaks: the best match, else the browser's first language.
  var localeHint = bestLocale(visitorLanguages, botLocales()) || visitorLanguages[0] || initialLocale;
  var chosenLocale = null; // a menu choice the binding could not apply (no setLocale): chrome only
  var locale = initialLocale; // the conversation's locale, a BCP 47 tag: Intl formats with it
  var strings = UI.en; // the table for `locale`
  var loadingTables = {};

  // The words for `code` (a key of NAMES): English's at once, another language's once
  // l10n/<code>.json has arrived (fetched on first use; then showLocale redraws), null before.
  function wordsFor(code) {
    if (!UI[code] && !loadingTables[code]) {
      var url = new URL("l10n/" + code + ".json", base).href;
      loadingTables[code] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("fetching " + url + " failed: HTTP " + response.status);
        return response.json();
      }).then(function (table) {
        UI[code] = table;
        showLocale();
      }, function (error) {
        console.warn("sottovoce: the widget's words stay English:", error && error.message || error);
      });
    }
    return UI[code] || null;
  }

  // The widget's word `key` in the conversation's locale (English when the table lacks it), with
  // "{0}" replaced by `arg`.
  function t(key, arg) {
    var s = strings[key] != null ? strings[key] : UI.en[key];
    return arg == null ? s : s.replace("{0}", arg);
  }

  // The language's own name ("Español"), from NAMES or Intl.DisplayNames.
  function endonym(code) {
    if (NAMES[code]) return NAMES[code];
    try {
      var n = new Intl.DisplayNames([code], { type: "language" }).of(code);
      return n.charAt(0).toLocaleUpperCase(code) + n.slice(1);
    } catch (e) {
      return code;
    }
  }

  // Intl.NumberFormat / DateTimeFormat for the conversation's locale (English for a malformed tag).
  function intl(Kind, options) {
    try { return new Kind(locale, options); } catch (e) { return new Kind("en", options); }
  }

  // Escalation settings: the server's base URL and what the owner allows to be sent.
  var escalationConfig = { url: null, policy: {} };
  function configureEscalation(options) {
    options = options || {};
    var url = options.url ? new URL(String(options.url), document.baseURI) : null;
    if (url && !/^https?:$/.test(url.protocol)) throw new TypeError("sottovoce: the escalation URL must be http(s)");
    if (url && !/\/$/.test(url.pathname)) url.pathname += "/";
    var policy = {};
    if (options.profileFields) policy.profile_fields = options.profileFields.map(String);
    if (options.redact) policy.redact = options.redact.map(String);
    escalationConfig = { url: url ? url.href : null, policy: policy };
  }
  (function () {
    var url = script.getAttribute("data-escalation-url");
    if (!url) return;
    var fields = script.getAttribute("data-escalation-fields");
    var redact = null;
    try { redact = JSON.parse(script.getAttribute("data-escalation-redact") || "null"); } catch (e) {
      console.warn("sottovoce: data-escalation-redact is not a JSON array of patterns; ignored");
    }
    configureEscalation({
      url: url,
      profileFields: fields ? fields.split(",").map(function (f) { return f.trim(); }).filter(Boolean) : null,
      redact: Array.isArray(redact) ? redact : null,
    });
  })();

  // ---------------------------------------------------------------- events

  var handlers = Object.create(null);

  function on(event, handler) {
    if (typeof handler !== "function") throw new TypeError("sottovoce.on: handler must be a function");
    var set = handlers[event] || (handlers[event] = new Set());
    set.add(handler);
    return function off() { set.delete(handler); };
  }

  function emit(event, detail) {
    var set = handlers[event];
    if (!set) return;
    set.forEach(function (handler) {
      try { handler(detail); } catch (e) { console.error("sottovoce: a '" + event + "' handler threw", e); }
    });
  }

  // ---------------------------------------------------------------- small helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function icon(paths) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var p = document.createElementNS(SVG, "path");
      p.setAttribute("d", d);
      svg.appendChild(p);
    });
    return svg;
  }

  function safeUrl(url) {
    try {
      var u = new URL(url, document.baseURI);
      return /^(https?|mailto|tel):$/.test(u.protocol) ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function uiState(value) {
    try {
      if (value === undefined) return window.localStorage.getItem(uiKey);
      window.localStorage.setItem(uiKey, value);
    } catch (e) { /* storage blocked or full: the panel just won't remember */ }
    return null;
  }

  // ---------------------------------------------------------------- DOM

  var host = el("div", { id: "sottovoce-widget", "data-sottovoce": "" });
  var root = host.attachShadow({ mode: "open" });
  var frame = el("div", { class: "sv", hidden: "" });
  var sheet = el("link", { rel: "stylesheet", href: cssUrl });
  // Shown once the styles are in (or failed: unstyled beats invisible).
  sheet.addEventListener("load", function () { frame.removeAttribute("hidden"); });
  sheet.addEventListener("error", function () { frame.removeAttribute("hidden"); });
  root.appendChild(sheet);
  root.appendChild(frame);

  var launcher = el("button", {
    type: "button", class: "sv-launcher", "aria-expanded": "false",
    "aria-controls": "sv-panel",
  }, [icon(["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"])]);

  var title = el("h2", { class: "sv-title", id: "sv-title" });
  var botName = null; // the bot's name once loaded (the title; "Chat" in the visitor's words before)
  var startOver = el("button", { type: "button", class: "sv-text-button" });
  var rememberedButton = el("button", {
    type: "button", class: "sv-text-button", "aria-expanded": "false", "aria-controls": "sv-remembered",
  });
  var remembered = el("section", { id: "sv-remembered", class: "sv-consent sv-remembered", hidden: "" });
  // The language menu: a button (the current language's code) and a menu of the bot's locales by
  // their own names; arrow keys, Home/End, Escape and Tab as in the ARIA menu button pattern.
  var langButton = el("button", {
    type: "button", class: "sv-text-button sv-lang", "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-controls": "sv-lang-menu", hidden: "",
  });
  var langMenu = el("div", { id: "sv-lang-menu", class: "sv-lang-menu", role: "menu", hidden: "" });
  var closeButton = el("button", { type: "button", class: "sv-icon-button" },
    [icon(["M6 6l12 12M18 6L6 18"])]);
  var log = el("div", { class: "sv-log", role: "log", tabindex: "0" });
  var status = el("p", { class: "sv-status", role: "status" });
  // aria-live rather than a second role=status: the assistant's own status stays the one "status".
  var escStatus = el("p", { class: "sv-status sv-esc-status", "aria-live": "polite" });
  var consent = el("section", { class: "sv-consent", hidden: "" });
  // Nobody online: when to expect an answer, and the offer to continue by email.
  var offline = el("section", { class: "sv-consent sv-offline", hidden: "" });
  var note = el("p", { class: "sv-note" });
  var input = el("input", {
    type: "text", class: "sv-input",
    autocomplete: "off", maxlength: "1000", enterkeyhint: "send",
  });
  var sendButton = el("button", { type: "submit", class: "sv-send" });
  var form = el("form", { class: "sv-form" }, [input, sendButton]);
  var panel = el("div", {
    id: "sv-panel", class: "sv-panel", role: "dialog", hidden: "",
  }, [
    el("div", { class: "sv-header" }, [title, rememberedButton, startOver, langButton, closeButton, langMenu]),
    log,
    remembered,
    consent,
    escStatus,
    offline,
    status,
    note,
    form,
  ]);
  frame.appendChild(panel);
  frame.appendChild(launcher);

  // ---------------------------------------------------------------- the owner's settings and the page API

  // The script tag's look (README, "Script tag"): data-position ("bottom-right" or "bottom-left";
  // unset: the inline end, so the left in a right-to-left locale), data-color (the brand colour,
  // any opaque CSS colour, for the launcher, header, buttons and the visitor's bubbles; the text
  // on it is white or near-black, whichever contrasts more), data-launcher-label (text on the
  // launcher, which is then also its accessible name), data-launcher-icon (an http(s) image in
  // place of the chat icon), data-greeting-delay (seconds: if the visitor has never opened the
  // chat, its greeting then counts as unread on the launcher), data-open (open on the first page
  // load; not once the visitor has closed it), data-theme ("light" or "dark"; unset: the
  // visitor's prefers-color-scheme).
  function setting(name) {
    var value = script.getAttribute("data-" + name);
    return value == null ? null : value.trim();
  }
  var settings = {
    position: /^bottom-(left|right)$/.test(setting("position")) ? setting("position") : null,
    color: setting("color"),
    launcherLabel: setting("launcher-label") || null,
    launcherIcon: setting("launcher-icon") && /^https?:/.test(safeUrl(setting("launcher-icon"))) ? safeUrl(setting("launcher-icon")) : null,
    greetingDelayS: Number(setting("greeting-delay")) >= 0 && setting("greeting-delay") ? Number(setting("greeting-delay")) : null,
    openOnLoad: setting("open") != null && !/^(false|0|no)$/i.test(setting("open")),
    theme: /^(light|dark)$/.test(setting("theme")) ? setting("theme") : null,
  };

  // The relative luminance of "#rrggbb" and the contrast ratio of two colours (WCAG 2.1,
  // definitions "relative luminance" and "contrast ratio"): 1 to 21.
  function luminance(hex) {
    var c = [1, 3, 5].map(function (i) {
      var v = parseInt(hex.slice(i, i + 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function contrast(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }

  // data-color on the host's custom properties (CSSOM, which a strict style-src allows): the
  // accent, the text on it, and the accent as text on the light background only where it reads
  // there (4.5:1 on the bot's bubbles), else the body colour. A colour the canvas cannot read
  // as opaque "#rrggbb" is ignored with a warning.
  function applyBrandColor(value) {
    var ctx = document.createElement("canvas").getContext("2d");
    var hex = null;
    if (ctx && window.CSS && CSS.supports("color", value)) {
      ctx.fillStyle = value;
      hex = /^#[0-9a-f]{6}$/.test(ctx.fillStyle) ? ctx.fillStyle : null;
    }
    if (!hex) {
      console.warn("sottovoce: data-color is not an opaque CSS colour; ignored:", value);
      return;
    }
    host.style.setProperty("--sv-accent", hex);
    host.style.setProperty("--sv-accent-text", contrast(hex, "#ffffff") >= contrast(hex, "#111111") ? "#ffffff" : "#111111");
    if (contrast(hex, "#eef2f0") < 4.5) host.style.setProperty("--sv-accent-fg-light", "#1d2522");
  }

  // The unread count on the launcher while the panel is closed: bot and agent messages that
  // arrive then (an agent's reply, a turn the page sent, a proactive message; not the greeting
  // drawn at load, which data-greeting-delay counts), in the launcher's name and a polite live
  // region; opening the panel clears it.
  var unread = 0;
  var badge = el("span", { class: "sv-badge", part: "badge", "aria-hidden": "true", hidden: "" });
  var unreadNote = el("p", { class: "sv-sr-only", "aria-live": "polite" });
  var greeted = false;
  var greetingTimer = null;

  function launcherName() {
    var name = settings.launcherLabel || t("open");
    // "Open chat, Unread messages: 2": the badge's visible number is in the name (label in name).
    return unread ? name + ", " + t("unread", intl(Intl.NumberFormat).format(unread)) : name;
  }

  function setUnread(n) {
    unread = n;
    badge.textContent = !n ? "" : n > 99 ? "99+" : intl(Intl.NumberFormat).format(n);
    badge.hidden = n === 0;
    launcher.setAttribute("aria-label", launcherName());
    unreadNote.textContent = n ? t("unread", intl(Intl.NumberFormat).format(n)) : "";
  }

  on("ready", function () { greeted = true; });
  on("message", function (m) { if (greeted && m.from !== "visitor" && !isOpen()) setUnread(unread + 1); });
  on("open", function () { clearTimeout(greetingTimer); setUnread(0); fitViewport(); });
  on("close", fitViewport);

  // data-greeting-delay: the greeting's messages (the bot's last run in the transcript) count
  // as unread once the delay has passed, if the visitor has never opened or closed the chat.
  function scheduleGreeting() {
    if (settings.greetingDelayS == null || uiState() !== null) return;
    greetingTimer = setTimeout(function () {
      start().then(function (c) {
        if (isOpen() || destroyed) return;
        var entries = c.transcript();
        var n = 0;
        while (n < entries.length && entries[entries.length - 1 - n].from === "bot") n++;
        setUnread(unread + n);
      }, function () { /* the status line says the assistant is unavailable */ });
    }, settings.greetingDelayS * 1000);
  }

  // Names for the page's stylesheet: #sottovoce-widget::part(launcher) { … } (the widget lives in
  // an open shadow root, so ::part is how a page styles its pieces; README lists them).
  function exposeParts() {
    [[launcher, "launcher"], [panel, "panel"], [panel.firstChild, "header"], [title, "title"], [closeButton, "close"],
      [log, "log"], [form, "form"], [input, "input"], [sendButton, "send"]].forEach(function (p) { p[0].setAttribute("part", p[1]); });
  }

  function applySettings() {
    exposeParts();
    log.setAttribute("aria-live", "polite");
    if (settings.position) frame.setAttribute("data-position", settings.position);
    if (settings.theme) host.setAttribute("data-theme", settings.theme);
    if (settings.color) applyBrandColor(settings.color);
    if (settings.launcherIcon) {
      launcher.replaceChild(el("img", { src: settings.launcherIcon, alt: "", class: "sv-launcher-icon" }), launcher.firstChild);
    }
    if (settings.launcherLabel) {
      launcher.classList.add("sv-launcher-labelled");
      launcher.appendChild(el("span", { class: "sv-launcher-label" }, [settings.launcherLabel]));
    }
    launcher.appendChild(badge);
    frame.appendChild(unreadNote);
    scheduleGreeting();
  }

  // show() / hide(): the launcher (the panel, if open, stays until closed).
  function showLauncher(shown) {
    frame.toggleAttribute("data-launcher-hidden", !shown);
  }
  // data-launcher="off": the page opens the chat itself (an app's native Help button).
  if (setting("launcher") === "off") showLauncher(false);

  // setLocale(code) from the page: the bot's locale matching `code` (es-MX → es), as if the
  // visitor had chosen it in the language menu; resolves to the conversation's locale, rejects
  // with a RangeError for a locale the bot lacks.
  function setLocaleFromPage(code) {
    return start().then(function () {
      var match = bestLocale([String(code || "")], botLocales());
      if (!match) throw new RangeError("sottovoce.setLocale: the bot has no locale '" + code + "' (it has " + botLocales().join(", ") + ")");
      return chooseLocale(match, true);
    }).then(function () { return chat.locale(); });
  }

  // The mobile full-screen panel (max-width 480px, as in sottovoce.css) fills the visual
  // viewport, so the on-screen keyboard never covers the input: its height and offset follow
  // visualViewport's resize and scroll as --sv-vv-height / --sv-vv-top on the host. There the
  // panel is modal: aria-modal, and Tab / Shift+Tab cycle inside it.
  var narrow = window.matchMedia("(max-width: 480px)");
  var teardown = []; // listeners on the page's objects, removed by destroy()

  function listen(target, type, fn, options) {
    if (!target) return;
    target.addEventListener(type, fn, options);
    teardown.push(function () { target.removeEventListener(type, fn, options); });
  }

  function fitViewport() {
    var vv = window.visualViewport;
    if (vv) {
      host.style.setProperty("--sv-vv-height", vv.height + "px");
      host.style.setProperty("--sv-vv-top", vv.offsetTop + "px");
    }
    if (narrow.matches && isOpen()) panel.setAttribute("aria-modal", "true");
    else panel.removeAttribute("aria-modal");
  }
  listen(window.visualViewport, "resize", fitViewport);
  listen(window.visualViewport, "scroll", fitViewport);
  listen(narrow, "change", fitViewport);

  function trapFocus(event) {
    if (event.key !== "Tab" || !narrow.matches) return;
    var items = Array.prototype.filter.call(panel.querySelectorAll("button, input, a[href], [tabindex]"), function (n) {
      return !n.disabled && n.tabIndex >= 0 && n.getClientRects().length > 0;
    });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], at = root.activeElement;
    if (event.shiftKey ? at === first || !panel.contains(at) : at === last) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  }
  panel.addEventListener("keydown", trapFocus);

  // destroy(): the widget leaves the page: its DOM, its listeners on the page, the agent stream
  // and timers go; what it stored (the conversation, the profile) stays for the next page.
  // Final: the frozen window.sottovoce stays, and its calls do nothing visible afterwards.
  var destroyed = false;
  function destroy() {
    if (destroyed) return;
    destroyed = true;
    unfollow();
    clearTimeout(pumpTimer);
    clearTimeout(greetingTimer);
    window.removeEventListener("online", onOnline);
    if (whenIdle) window.removeEventListener("load", whenIdle);
    document.removeEventListener("DOMContentLoaded", mount);
    teardown.forEach(function (off) { off(); });
    host.remove();
    handlers = Object.create(null);
  }

  // The typing indicator: three dots at the end of the log while a turn waits for the bot (its
  // first load, a locale's part); the log is aria-busy meanwhile, so screen readers read the
  // reply once it is there.
  var typing = el("div", { class: "sv-typing", part: "typing", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]);
  function showTyping() {
    log.setAttribute("aria-busy", "true");
    log.appendChild(typing);
    log.scrollTop = log.scrollHeight;
  }
  function hideTyping() {
    log.removeAttribute("aria-busy");
    typing.remove();
  }

  // A message's text as DOM. The visitor's words: one paragraph, as typed. The bot's and the
  // agent's: the safe Markdown subset owners may write in replies (README, "Replies"): lines
  // starting "- " or "* " (a bulleted list) or "1. " (numbered), other lines paragraphs (line
  // breaks kept), **strong**, *emphasis* or _emphasis_, [label](url) links for http, https,
  // mailto and tel (any other URL leaves the label as plain text), and a backslash keeps a
  // marker literal. No HTML: every piece is a text node in an element made here. A message
  // without list lines is one paragraph, as before.
  var LIST_ITEM = /^\s*(?:([-*])|(\d{1,3})[.)])\s+(.*)$/;
  var INLINE = /\\([\\*_[\]()])|\*\*(\S(?:[\s\S]*?\S)?)\*\*|\*([^\s*](?:[^*]*?[^\s*])?)\*|(?<![\p{L}\p{N}_])_([^\s_](?:[^_]*?[^\s_])?)_(?![\p{L}\p{N}_])|\[([^\]\n]+)\]\(([^()\s]+)\)/gu;

  function messageBody(from, text) {
    var paragraph = function (s) { return el("p", { class: "sv-text", dir: "auto" }, from === "visitor" ? [s] : inline(s)); };
    var lines = text.split("\n");
    if (from === "visitor" || !lines.some(function (l) { return LIST_ITEM.test(l); })) return [paragraph(text)];
    var blocks = [], words = [], list = null;
    var flush = function () {
      var s = words.join("\n").replace(/^\s*\n|\n\s*$/g, "");
      if (s.trim()) blocks.push(paragraph(s));
      words = [];
    };
    lines.forEach(function (line) {
      var m = LIST_ITEM.exec(line);
      if (!m) { list = null; words.push(line); return; }
      flush();
      var kind = m[1] ? "ul" : "ol";
      if (!list || list.localName !== kind) {
        list = el(kind, { class: "sv-list", dir: "auto" });
        if (m[2] && m[2] !== "1") list.setAttribute("start", m[2]);
        blocks.push(list);
      }
      list.appendChild(el("li", {}, inline(m[3])));
    });
    flush();
    return blocks;
  }

  function inline(text) {
    var out = [], at = 0, m;
    var re = new RegExp(INLINE.source, "gu"); // one per call: inline() recurses
    while ((m = re.exec(text))) {
      if (m.index > at) out.push(text.slice(at, m.index));
      if (m[1] != null) out.push(m[1]);
      else if (m[2] != null) out.push(el("strong", {}, inline(m[2])));
      else if (m[3] != null || m[4] != null) out.push(el("em", {}, inline(m[3] != null ? m[3] : m[4])));
      else {
        var href = safeUrl(m[6]);
        out.push(href ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "sv-link" }, inline(m[5])) : m[5]);
      }
      at = re.lastIndex;
    }
    if (at < text.length) out.push(text.slice(at));
    return out;
  }

  // When a message was said, for screen readers (visually hidden, after its text): the time in
  // the conversation's locale, with the date when it was not today. `ms`: ms since the epoch.
  function timeStamp(ms) {
    var when = new Date(ms || Date.now());
    var today = when.toDateString() === new Date().toDateString();
    return el("time", { class: "sv-sr-only", datetime: when.toISOString() },
      [intl(Intl.DateTimeFormat, today ? { timeStyle: "short" } : { dateStyle: "medium", timeStyle: "short" }).format(when)]);
  }

  applySettings();

  // The status line: the widget's words `keys` (joined), redrawn when the locale changes.
  var statusKeys = [];
  function setStatus() {
    statusKeys = Array.prototype.slice.call(arguments).filter(Boolean);
    status.textContent = statusKeys.map(function (k) { return t(k); }).join(" ");
  }

  var memoryOnly = false; // storage blocked or full: said in the note under the log
  var shownStrings = null; // the table the chrome was last drawn with
  var shownMenu = null; // the locales and current locale the language menu was drawn for

  // Puts the widget's words, lang and dir in the conversation's locale: the core's (or the
  // visitor's menu choice when the binding cannot apply it), redrawing what is open. Called
  // after loading and after every turn, so the chrome follows a language switch at once.
  function showLocale() {
    locale = chosenLocale || (chat ? chat.locale() : locale);
    strings = wordsFor(bestLocale([locale], Object.keys(NAMES)) || "en") || UI.en;
    frame.setAttribute("lang", locale);
    frame.setAttribute("dir", RTL.test(locale) ? "rtl" : "ltr");
    launcher.setAttribute("aria-label", launcherName());
    closeButton.setAttribute("aria-label", t("close"));
    title.textContent = botName || t("fallbackName");
    panel.setAttribute("aria-label", title.textContent);
    startOver.textContent = t("startOver");
    rememberedButton.textContent = t("remembered");
    remembered.setAttribute("aria-label", t("remembered"));
    log.setAttribute("aria-label", t("conversation"));
    consent.setAttribute("aria-label", t("consentTitle"));
    input.setAttribute("aria-label", t("message"));
    input.setAttribute("placeholder", t("placeholder"));
    sendButton.textContent = t("send");
    note.textContent = memoryOnly ? t("memoryOnly") : "";
    var locales = botLocales();
    langButton.hidden = locales.length < 2;
    langButton.textContent = locale.split("-")[0].toUpperCase();
    // The visible code ends the name too (WCAG 2.5.3, label in name): "Language: English, EN".
    langButton.setAttribute("aria-label", t("language") + ": " + endonym(locale) + ", " + langButton.textContent);
    var menuKey = locales.join(" ") + "|" + locale;
    if (menuKey !== shownMenu) drawLangMenu(locales);
    shownMenu = menuKey;
    if (shownStrings !== null && shownStrings !== strings) {
      setStatus.apply(null, statusKeys);
      renderEscalationStatus();
      if (!remembered.hidden && chat) showRemembered(chat);
      if (!consent.hidden && chat) showConsent(chat);
    }
    shownStrings = strings;
  }

  // The menu's items: the bot's locales by their own names, the current one checked.
  function drawLangMenu(locales) {
    langMenu.textContent = "";
    locales.forEach(function (code) {
      var item = el("button", {
        type: "button", role: "menuitemradio", class: "sv-lang-item", lang: code, tabindex: "-1",
        "aria-checked": String(code === locale), "data-locale": code,
      }, [endonym(code)]);
      item.addEventListener("click", function () { closeLangMenu(); chooseLocale(code); });
      langMenu.appendChild(item);
    });
  }

  // The visitor picked `code` in the language menu: the core is told (chat.setLocale, so replies
  // follow and the choice is kept with the conversation); a binding without it changes the
  // chrome only.
  function chooseLocale(code, quiet) {
    chosenLocale = code;
    showLocale();
    if (!quiet) langButton.focus();
    return start().then(function (c) {
      return ensureLocale(c, code).then(function () { return c; });
    }).then(function (c) {
      if (typeof c.setLocale !== "function") return;
      try {
        c.setLocale(code);
        chosenLocale = null;
      } catch (error) {
        console.warn("sottovoce: the bot cannot switch to " + code + ":", error && error.message || error);
      }
      showLocale();
    }, function () { /* the status line already says the assistant is unavailable */ });
  }

  function langItems() { return Array.prototype.slice.call(langMenu.children); }

  function openLangMenu(focusLast) {
    langMenu.hidden = false;
    langButton.setAttribute("aria-expanded", "true");
    var items = langItems();
    var current = items.find(function (i) { return i.getAttribute("aria-checked") === "true"; });
    (focusLast ? items[items.length - 1] : current || items[0]).focus();
  }

  function closeLangMenu() {
    langMenu.hidden = true;
    langButton.setAttribute("aria-expanded", "false");
  }

  langButton.addEventListener("click", function () {
    if (langMenu.hidden) openLangMenu(false);
    else closeLangMenu();
  });
  langButton.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      openLangMenu(event.key === "ArrowUp");
    }
  });
  langMenu.addEventListener("keydown", function (event) {
    var items = langItems();
    var at = items.indexOf(root.activeElement);
    var next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[event.key];
    if (next !== undefined) {
      event.preventDefault();
      items[(next + items.length) % items.length].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation(); // closes the menu, not the chat
      closeLangMenu();
      langButton.focus();
    } else if (event.key === "Tab") {
      closeLangMenu();
    }
  });
  panel.addEventListener("click", function (event) {
    if (!langMenu.hidden && !langMenu.contains(event.target) && !langButton.contains(event.target)) closeLangMenu();
  });
  showLocale();

  // ---------------------------------------------------------------- rendering

  var quickReplyGroup = null; // only the latest bot message keeps its buttons
  var productButtons = null; // "What goes with it?" / "Something cheaper?" under the latest cards

  function clearQuickReplies() {
    if (quickReplyGroup) quickReplyGroup.remove();
    quickReplyGroup = null;
    if (productButtons) productButtons.remove();
    productButtons = null;
  }

  function renderMessage(from, text, extras) {
    extras = extras || {};
    var bubble = el("div", { class: "sv-msg sv-from-" + from, "data-from": from }, [
      el("span", { class: "sv-sr-only" }, [/^(visitor|bot|agent)$/.test(from) ? t(from + "_speaker") : ""]),
    ].concat(messageBody(from, String(text)), [timeStamp(extras.time)]));
    bubble.setAttribute("part", "message " + from + "-message");
    if (extras.intent) bubble.setAttribute("data-intent", extras.intent);
    // When it was said, in the conversation's format (a tooltip; ms since the epoch, default now).
    bubble.title = intl(Intl.DateTimeFormat, { dateStyle: "medium", timeStyle: "short" }).format(extras.time || Date.now());
    var links = (extras.links || []).map(function (link) {
      var href = safeUrl(link.url);
      if (!href) return null;
      return el("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "sv-link" }, [String(link.label)]);
    }).filter(Boolean);
    if (links.length) bubble.appendChild(el("div", { class: "sv-links" }, links));
    log.appendChild(bubble);
    if (from !== "visitor" && extras.quickReplies && extras.quickReplies.length) {
      clearQuickReplies();
      quickReplyGroup = el("div", { class: "sv-quick", role: "group", "aria-label": t("suggestions") },
        extras.quickReplies.map(function (q) {
          var b = el("button", { type: "button", class: "sv-chip" }, [String(q.label)]);
          b.addEventListener("click", function () { choose(q.label, q.intent || null); });
          return b;
        }));
      log.appendChild(quickReplyGroup);
    }
    log.scrollTop = log.scrollHeight;
  }

  function renderTranscript(entries) {
    log.textContent = "";
    quickReplyGroup = null;
    entries.forEach(function (e, i) {
      var last = i === entries.length - 1;
      renderMessage(e.from, e.text, {
        time: e.time_ms,
        intent: e.intent, links: e.links, quickReplies: last ? e.quick_replies : null,
      });
    });
  }

  // "Was this helpful?" under the answer to the visitor's latest message (one at a time): a
  // thumbs up or down teaches the bot, on this device only (Chat.feedback), and shows under
  // What I remember, where it can be forgotten.
  var feedbackRow = null;
  function clearFeedback() {
    if (feedbackRow) feedbackRow.remove();
    feedbackRow = null;
  }
  function offerFeedback() {
    clearFeedback();
    var ask = el("span", { class: "sv-helpful-ask" }, [t("helpful")]);
    var row = el("div", { class: "sv-helpful", role: "group", "aria-label": t("helpful") }, [ask]);
    [[true, "\ud83d\udc4d", "helpfulYes"], [false, "\ud83d\udc4e", "helpfulNo"]].forEach(function (choice) {
      var b = el("button", { type: "button", class: "sv-text-button sv-thumb", "aria-label": t(choice[2]), title: t(choice[2]) }, [choice[1]]);
      b.addEventListener("click", function () {
        var recorded = false;
        try { recorded = chat && chat.feedback(choice[0], Date.now()); } catch (e) { recorded = false; }
        row.textContent = "";
        row.appendChild(el("span", { class: "sv-helpful-ask", role: "status" }, [recorded ? t("helpfulThanks") : ""]));
        input.focus();
      });
      row.appendChild(b);
    });
    feedbackRow = row;
    if (quickReplyGroup) log.insertBefore(row, quickReplyGroup);
    else log.appendChild(row);
  }

  // "Send this question to the shop": after a fallback (or the suggestion picked after one),
  // the visitor may share that one question, redacted (Chat.sharedQuestion), to help the owner
  // teach the bot. Shown, then sent only on an explicit yes; never queued or retried.
  var shareRow = null;
  function clearShare() {
    if (shareRow) shareRow.remove();
    shareRow = null;
  }
  function offerShare() {
    clearShare();
    if (!escalationConfig.url || !chat || escalationActive()) return;
    var question = null;
    try { question = chat.sharedQuestion(newKey(), escalationConfig.policy); } catch (e) { question = null; }
    if (!question) return;
    var row = el("div", { class: "sv-share" });
    var offer = el("button", { type: "button", class: "sv-text-button sv-share-offer" }, [t("shareOffer")]);
    offer.addEventListener("click", function () {
      row.textContent = "";
      var send = el("button", { type: "button", class: "sv-chip sv-primary" }, [t("shareSend")]);
      var cancel = el("button", { type: "button", class: "sv-chip" }, [t("shareCancel")]);
      row.appendChild(el("p", {}, [t("shareIntro")]));
      row.appendChild(el("blockquote", { class: "sv-share-text" }, [question.text]));
      row.appendChild(el("div", { class: "sv-consent-actions" }, [send, cancel]));
      cancel.addEventListener("click", function () { clearShare(); input.focus(); });
      send.addEventListener("click", function () {
        send.disabled = true;
        cancel.disabled = true;
        postJson("api/feedback", null, question).then(function (r) { return r.ok; }, function () { return false; }).then(function (ok) {
          row.textContent = "";
          row.appendChild(el("p", { role: "status" }, [t(ok ? "shareSent" : "shareFailed")]));
          input.focus();
        });
      });
      send.focus();
    });
    row.appendChild(offer);
    shareRow = row;
    if (quickReplyGroup) log.insertBefore(row, quickReplyGroup);
    else log.appendChild(row);
  }

  // A finished form with `submit` (a sales lead, a newsletter sign-up, a back-in-stock alert):
  // its fields exactly as they would leave, then Send / Don't send. Only on Send does the page
  // hear it (`on("submission", {kind, fields})`) and, with an escalation server, does
  // POST /api/submissions get it (retried after a network error, 429 or 5xx while the page is
  // open; never after a refusal).
  function offerSubmission(submit) {
    var body = { id: newKey(), kind: submit.kind, locale: chat.locale(), fields: submit.fields };
    var card = el("section", { class: "sv-consent sv-submission", "aria-label": t("submitTitle") });
    var list = el("dl", { class: "sv-submission-fields" });
    Object.keys(body.fields).forEach(function (name) {
      var label = UI.en["field_" + name] != null ? t("field_" + name) : name;
      list.appendChild(el("dt", {}, [label]));
      list.appendChild(el("dd", {}, [body.fields[name]]));
    });
    var send = el("button", { type: "button", class: "sv-chip sv-primary" }, [t("submitSend")]);
    var cancel = el("button", { type: "button", class: "sv-chip" }, [t("submitCancel")]);
    var status = el("p", { role: "status" });
    card.appendChild(el("p", {}, [t("submitIntro")]));
    card.appendChild(list);
    card.appendChild(el("div", { class: "sv-consent-actions" }, [send, cancel]));
    card.appendChild(status);
    function finish(key) {
      send.remove();
      cancel.remove();
      status.textContent = t(key);
      input.focus();
    }
    function deliver(attempt) {
      postJson("api/submissions", null, body).then(function (r) {
        if (r.ok) return finish("submitSent");
        if ((r.status === 429 || r.status >= 500) && attempt < 5) return retry(attempt, retryAfterMs(r));
        console.warn("sottovoce: the submission was refused: HTTP " + r.status);
        finish("submitRefused");
      }, function () {
        if (attempt < 5) retry(attempt); else finish("submitFailed");
      });
    }
    function retry(attempt, afterMs) {
      status.textContent = t("submitRetrying");
      setTimeout(function () { deliver(attempt + 1); }, afterMs || 2000 * Math.pow(2, attempt));
    }
    send.addEventListener("click", function () {
      send.disabled = true;
      cancel.disabled = true;
      emit("submission", { kind: body.kind, fields: body.fields });
      if (!escalationConfig.url) return finish("submitHanded");
      status.textContent = t("submitSending");
      deliver(0);
    });
    cancel.addEventListener("click", function () { finish("submitNotSent"); });
    if (quickReplyGroup) log.insertBefore(card, quickReplyGroup);
    else log.appendChild(card);
    log.scrollTop = log.scrollHeight;
  }

  function showBotMessages(messages) {
    messages.forEach(function (m) {
      renderMessage("bot", m.text, { links: m.links, quickReplies: m.quick_replies });
      emit("message", { from: "bot", text: m.text, id: m.id, quickReplies: m.quick_replies || [], links: m.links || [] });
    });
  }

  // ---------------------------------------------------------------- the bot

  var chat = null;
  var loadStarted = performance.now();

  // The word-vector table `name` (pkg/vectors-<name>.svvec), fetched and parsed once per page.
  var vectorTables = {};
  function wordVectors(mod, name) {
    if (!vectorTables[name]) {
      var url = new URL("vectors-" + name + ".svvec", pkgUrl).href;
      vectorTables[name] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("fetching " + url + " failed: HTTP " + response.status);
        return response.arrayBuffer();
      }).then(function (buffer) { return new mod.WordVectors(new Uint8Array(buffer)); });
    }
    return vectorTables[name];
  }

  // The accuracy tier's encoder: the bot's `.sven` copy that `sottovoce build --encoder` writes
  // beside the model (<stem>.sven, ~12 MB gzip), downloaded once and kept in the Cache API under
  // the hash the model needs, so a rebuilt bot fetches its new copy and the old one is dropped.
  // Without the Cache API (a page not served over https), it is fetched on each visit.
  var ENCODER = "all-minilm-l6-v2";
  var ENCODER_CACHE = "sottovoce-encoder";
  function sentenceEncoder(mod, hash) {
    var url = botUrl.replace(/(\.common)?\.svm(?=$|[?#])/, ".sven");
    var key = url + (url.indexOf("?") < 0 ? "?" : "&") + "sv-hash=" + hash;
    var encoderModule = importModule(pkgEncoderUrl); // loads while the copy is looked up and fetched
    var lookup = (typeof caches === "undefined" ? Promise.reject() : caches.open(ENCODER_CACHE)).then(function (cache) {
      return cache.match(key).catch(function () {}).then(function (hit) { return { cache: cache, hit: hit }; });
    }, function () { return { cache: null }; }); // no Cache API, or one that cannot open (a private window)
    // The encoder in `response`, checked to be the copy the model was built with.
    function read(response) {
      return Promise.all([encoderModule, response.arrayBuffer()]).then(function (both) {
        var encoder = new both[0].Encoder(new Uint8Array(both[1]));
        if (encoder.hash().toString(16).padStart(16, "0") !== hash) {
          encoder.free();
          throw new Error(url + " is not the encoder copy " + botUrl + " was built with (upload both from one sottovoce build)");
        }
        return encoder;
      });
    }
    // Downloads the copy and, once it reads, keeps it, dropping the copies of older builds.
    function fresh(cache) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("fetching " + url + " failed: HTTP " + response.status);
        var copy = cache && response.clone();
        return read(response).then(function (encoder) {
          if (copy) {
            cache.put(key, copy).then(function () { return cache.keys(); }).then(function (keys) {
              keys.forEach(function (k) { if (k.url !== key && k.url.split("?")[0] === url.split("?")[0]) cache.delete(k); });
            }).catch(function () {}); // a full or blocked cache: the next visit downloads again
          }
          return encoder;
        });
      });
    }
    return lookup.then(function (found) {
      if (!found.hit) return fresh(found.cache);
      // A damaged cached copy is dropped and downloaded again.
      return read(found.hit).catch(function () {
        found.cache.delete(key).catch(function () {});
        return fresh(found.cache);
      });
    }).then(function (encoder) {
      return mod.WordVectors.fromEncoder(function (text) { return encoder.embed(text); }, encoder.hash(), encoder.source(), encoder.dim());
    });
  }

  // A model in parts (`sottovoce build --split`, served as <stem>.common.svm): the part of a
  // locale the conversation needs is fetched once, from beside the model (<stem>.<locale>.svm),
  // before the turn that needs it. A part that fails to load leaves the bot answering in the
  // locales it has (and is tried again next time).
  var partLoads = {};
  function ensureLocale(c, code) {
    if (!code || typeof c.missingLocales !== "function" || c.missingLocales().indexOf(code) < 0) return Promise.resolve();
    if (!partLoads[code]) {
      var url = botUrl.replace(/(\.common)?\.svm(?=$|[?#])/, "." + code + ".svm");
      partLoads[code] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("fetching " + url + " failed: HTTP " + response.status);
        return response.arrayBuffer();
      }).then(function (buffer) {
        if (c.missingLocales().indexOf(code) >= 0) c.addLocale(new Uint8Array(buffer));
      }).catch(function (error) {
        delete partLoads[code];
        console.warn("sottovoce: the " + code + " part of the model could not load:", error && error.message || error);
      });
    }
    return partLoads[code];
  }

  // Imports a wasm-bindgen module and starts its wasm.
  function importModule(url) { return import(url).then(function (mod) { return mod.default().then(function () { return mod; }); }); }

  async function load() {
    if (!botUrl) throw new Error("the script tag has no data-bot attribute");
    // The module loads while the bot downloads: the runtime build for a model, the full build
    // for definition JSON (guessed from a .json URL, then checked by the model's magic bytes).
    var guessFull = /\.json$/i.test(new URL(botUrl).pathname);
    var modulePromise = importModule(guessFull ? pkgFullUrl : pkgUrl);
    var response = await fetch(botUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error("fetching " + botUrl + " failed: HTTP " + response.status);
    var bytes = new Uint8Array(await response.arrayBuffer());
    var isModel = bytes.length >= 4 && bytes[0] === 0x53 && bytes[1] === 0x56 && bytes[2] === 0x4d && bytes[3] === 0; // "SVM\0"
    if (isModel === guessFull) {
      modulePromise.catch(function () {}); // the other build is not needed after all
      modulePromise = importModule(isModel ? pkgUrl : pkgFullUrl);
    }
    var mod = await modulePromise;
    var c;
    try {
      c = new mod.Chat(bytes, { locale: localeHint });
    } catch (error) {
      // An owner who opted into word vectors (`word_vectors`): fetch the named table beside the
      // wasm and try again. Bots without it never download the table.
      var table = mod.Chat.vectorsNeeded(bytes);
      if (!table) throw error;
      var vectors = table === ENCODER ? await sentenceEncoder(mod, mod.Chat.vectorsHash(bytes)) : await wordVectors(mod, table);
      c = mod.Chat.withVectors(bytes, vectors, { locale: localeHint });
    }
    // The conversation's locale first (a returning visitor's, else the best match for the
    // browser's languages), and the default locale if that part could not load.
    await ensureLocale(c, c.locale());
    if (c.missingLocales && c.missingLocales().indexOf(c.locale()) >= 0) {
      await ensureLocale(c, c.locales()[0]);
      // Without either part the bot has no words to answer with: fail, and try again later.
      if (c.missingLocales().indexOf(c.locales()[0]) >= 0) {
        var tried = c.locale() + ", " + c.locales()[0];
        c.free();
        throw new Error("no locale part of " + botUrl + " could load (" + tried + ")");
      }
    }
    var name = c.botName();
    botName = name;
    var greeting = c.begin(Date.now());
    chat = c;
    showLocale();
    // The greeting is already in the transcript; draw the history, then announce what is new.
    var transcript = c.transcript();
    renderTranscript(transcript);
    greeting.forEach(function (m) {
      emit("message", { from: "bot", text: m.text, id: m.id, quickReplies: m.quick_replies || [], links: m.links || [] });
    });
    setStatus("");
    // Storage blocked or full: the chat works from memory; say so plainly, once.
    memoryOnly = c.storageStatus() === "memory";
    renderEscalationStatus();
    c.escalationResume(Date.now()); // a send cut off by a closed page is due at once
    if (escalationActive()) pump(); // resume a queued send or an open conversation after a reload
    queue = queue.then(function () { return resumeFromLink(c); }); // an emailed link reopens its conversation
    emit("ready", {
      botName: name, storage: c.storageStatus(), source: c.source(), locale: c.locale(),
      loadMs: performance.now() - loadStarted,
    });
    return c;
  }

  // The bot loads once: when the page has finished loading and is idle (so the shop's own
  // images and scripts come first), or at once when the visitor opens the chat or the page
  // calls send(). data-load="open" waits for the chat to be opened.
  var ready = null;

  function start() {
    if (destroyed) {
      var gone = Promise.reject(new Error("sottovoce: destroyed"));
      gone.catch(function () {});
      return gone;
    }
    if (!ready) {
      loadStarted = performance.now();
      ready = load();
      ready.catch(function (error) {
        console.warn("sottovoce: the assistant could not start:", error);
        ready = null; // the next send or opening tries again (a network blip must not last)
        setStatus("unavailable");
        emit("error", { message: String(error && error.message || error) });
      });
    }
    return ready;
  }

  if (script.getAttribute("data-load") !== "open") {
    var whenIdle = function () {
      if (window.requestIdleCallback) window.requestIdleCallback(start, { timeout: 1000 });
      else setTimeout(start, 0);
    };
    if (document.readyState === "complete") whenIdle();
    else window.addEventListener("load", whenIdle, { once: true });
  }

  // Serialises turns, so two quick sends answer in order.
  var queue = Promise.resolve();

  // Two tabs of one site share the stored conversation: before a turn, and whenever another tab
  // writes it (the `storage` event), this tab adopts the stored one and redraws, so neither
  // overwrites the other's messages and both show the same conversation.
  function adoptStored(c) {
    if (typeof c.reloadStored !== "function" || !c.reloadStored()) return false;
    renderTranscript(c.transcript());
    showLocale();
    return true;
  }
  listen(window, "storage", function (event) {
    if (chat && event.key === "sottovoce:v1:" + chat.botId()) queue = queue.then(function () { adoptStored(chat); }).catch(function () {});
  });

  // ---------------------------------------------------------------- anonymous KPI reports
  // Only when the owner set data-kpis="on" and an escalation server: this conversation's key
  // figures (Chat.kpis(): counts, intent names, ratings; never text) go to api/kpis a few
  // seconds after a turn and when the page is hidden, under a random id per conversation (a new
  // one after "forget me" or a reset), so the server replaces a conversation's report instead of
  // counting it twice and nothing links two conversations. A failed send is simply tried again
  // with the next report.
  var kpiReporting = script.getAttribute("data-kpis") === "on";
  var kpiKey = "sottovoce:v1:kpi:" + (botUrl ? new URL(botUrl).pathname : "");
  var kpiTimer = null;
  var kpiSent = "";
  function kpiId() {
    var id = null;
    try { id = window.localStorage.getItem(kpiKey); } catch (e) { /* storage blocked */ }
    if (!id) {
      id = newKey();
      try { window.localStorage.setItem(kpiKey, id); } catch (e) { /* kept for this page only */ }
    }
    return id;
  }
  function forgetKpiId() {
    kpiSent = "";
    try { window.localStorage.removeItem(kpiKey); } catch (e) { /* storage blocked: nothing stored */ }
  }
  function reportKpis(leaving) {
    clearTimeout(kpiTimer);
    if (!kpiReporting || !chat || !escalationConfig.url) return;
    var kpis;
    try { kpis = chat.kpis(); } catch (e) { return; }
    if (!kpis || !kpis.messages) return; // the visitor has not written: nothing to count
    var body = JSON.stringify({ id: kpiId(), kpis: kpis });
    if (body === kpiSent) return;
    kpiSent = body;
    fetch(api("api/kpis"), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: body, credentials: "omit", keepalive: !!leaving,
    }).then(function (r) { if (!r.ok && r.status >= 500) kpiSent = ""; }, function () { kpiSent = ""; });
  }
  function scheduleKpis() {
    if (!kpiReporting) return;
    clearTimeout(kpiTimer);
    kpiTimer = setTimeout(reportKpis, 3000);
  }
  listen(document, "visibilitychange", function () { if (document.visibilityState === "hidden") reportKpis(true); });

  function turn(run, visitorText) {
    showTyping();
    var result = queue.then(async function () {
      var c = await start();
      if (typeof c.localeNeeded === "function") await ensureLocale(c, c.localeNeeded(visitorText));
      adoptStored(c); // another tab may have written since: build on its messages
      var t = run(c);
      memoryOnly = c.storageStatus() === "memory"; // a write that just failed (quota) says so now
      clearQuickReplies();
      hideConsent(); // moving on without answering the offer declines it
      renderMessage("visitor", visitorText, { intent: t.intent });
      emit("message", { from: "visitor", text: visitorText, id: null, quickReplies: [], links: [] });
      // In the replies' locale (the core's, after this turn), like the widget's words: a message
      // detected as another language ("compare them" reads as Portuguese) does not switch them.
      // The catalog answers before the bot's messages show, so that a reply with `with_products`
      // is said in its first message's place when products for the request follow it.
      var answer = catalogUrl ? await catalogAnswer(t, chat.locale()) : null;
      emit("intent", {
        text: visitorText, intent: t.intent, confidence: t.confidence, ranking: t.ranking,
        entities: t.entities, locale: t.locale, handoff: t.handoff,
      });
      showLocale(); // the conversation may have changed language
      clearFeedback();
      clearShare();
      var said = answer && answer.products && t.with_products && t.messages.length ? [t.with_products].concat(t.messages.slice(1)) : t.messages;
      showBotMessages(said);
      if (t.intent && t.messages.length && !escalationActive()) offerFeedback();
      if (t.messages.length) offerShare();
      setStatus("");
      if (answer) answer.show();
      if (t.submit) offerSubmission(t.submit);
      // "What do you remember about me?" / "Forget me" in chat: the same view as the header's
      // What I remember; forgetting still waits for the visitor's press of Forget me. The
      // focus stays in the message box.
      if (t.privacy) showRemembered(chat);
      if (t.handoff && escalationConfig.url && !escalationActive()) showConsent(chat);
      scheduleKpis();
      return t;
    });
    result.then(hideTyping, hideTyping);
    queue = result.catch(function () {});
    return result;
  }

  // The visitor's offset from UTC in minutes, east positive, at `now`: the core resolves
  // "tomorrow" in the visitor's own day (getTimezoneOffset counts minutes west).
  function visitorUtcOffset(now) {
    return -new Date(now).getTimezoneOffset();
  }

  async function send(text) {
    text = String(text == null ? "" : text).trim();
    if (!text) return undefined;
    if (escalationActive()) return toAgent(text);
    return turn(function (c) { var now = Date.now(); return c.send(text, now, visitorUtcOffset(now)); }, text);
  }

  function choose(label, intent) {
    return turn(function (c) { var now = Date.now(); return c.choose(label, intent, now, visitorUtcOffset(now)); }, label).catch(function (e) {
      console.warn("sottovoce: the quick reply failed:", e);
      setStatus("unavailable");
    });
  }

  // Empties the panel after the conversation was forgotten: no buttons, stream, retries,
  // offers or panels of the old one.
  function clearView() {
    clearQuickReplies();
    unfollow();
    clearTimeout(pumpTimer);
    hideConsent();
    hideOffline();
    hideRemembered();
    renderEscalationStatus();
    log.textContent = "";
    quickReplyGroup = null;
  }

  async function reset() {
    var c = await start();
    reportKpis(false); // the conversation that ends here, then a new id for the next one
    forgetKpiId();
    var greeting = c.reset(Date.now());
    clearView();
    showLocale();
    showBotMessages(greeting);
    setStatus("");
  }

  // ---------------------------------------------------------------- escalation to a person

  // The state machine (queued, sending, sent, failed with backoff, rejected, resolved) lives in
  // the core and is saved with the conversation; this part only does the network and the
  // drawing. Which HTTP answers are retried, and when, is the core's decision
  // (escalationOutcome / escalationMessageOutcome): a 422 or other final refusal is never resent.
  var pumpTimer = null;
  var pumping = false;
  var flushing = false;
  var stream = null;

  function api(path) { return new URL(path, escalationConfig.url).href; }

  function escalation() {
    try { return chat ? chat.escalation() : null; } catch (e) { return null; }
  }

  function escalationActive() {
    var e = escalation();
    return !!e && e.status.state !== "resolved" && e.status.state !== "rejected";
  }

  // What to feed the core for a finished fetch: its status, and Retry-After in ms when given.
  function retryAfterMs(response) {
    var seconds = Number(response.headers.get("retry-after"));
    return seconds > 0 ? seconds * 1000 : undefined;
  }

  function renderEscalationStatus() {
    var e = escalation();
    var text = "";
    if (e) {
      var s = e.status;
      var key = { queued: "escQueued", sending: "escSending", failed: "escRetry", sent: "escSent", resolved: "escResolved", rejected: "escRejected" }[s.state];
      if (key) text = t(key, intl(Intl.NumberFormat).format(Math.max(1, Math.ceil((s.next_retry_ms - Date.now()) / 1000))));
      if (s.state === "sent" && e.outbox.some(function (m) { return m.rejected != null; })) text += " " + t("escMessageRejected");
      escStatus.setAttribute("data-state", s.state);
    } else {
      escStatus.removeAttribute("data-state");
    }
    escStatus.textContent = text;
  }

  function schedule(ms) {
    clearTimeout(pumpTimer);
    pumpTimer = setTimeout(pump, Math.max(0, Math.min(ms, 60000)));
  }

  // One pass: send the escalation if due, then follow the stream and deliver the outbox.
  async function pump() {
    if (pumping || !chat || !escalationConfig.url) return;
    pumping = true;
    try {
      var c = chat;
      var e = c.escalation();
      if (!e) return;
      if (c.escalationDue(Date.now())) {
        c.escalationSending(Date.now());
        renderEscalationStatus();
        var response = null;
        try {
          response = await fetch(api("api/escalations"), {
            method: "POST",
            headers: { "content-type": "application/json", "idempotency-key": e.idempotency_key },
            body: JSON.stringify(e.payload),
            credentials: "omit",
          });
          if (response.ok) {
            var body = await response.json();
            c.escalationSent(String(body.id), String(body.token), Date.now());
          } else {
            var step = c.escalationOutcome(response.status, retryAfterMs(response), Date.now());
            console.warn("sottovoce: the escalation was " + (step.step === "failed" ? "refused" : "not delivered yet") +
              ": HTTP " + response.status);
          }
        } catch (error) {
          // Offline, or an unreadable answer: only a delay (the idempotency key makes the retry
          // safe). The queue is in localStorage.
          console.warn("sottovoce: the escalation was not delivered yet:", error && error.message || error);
          c.escalationOutcome(0, undefined, Date.now());
        }
        renderEscalationStatus();
      }
      e = c.escalation();
      var s = e.status;
      if (s.state === "sent") {
        follow(e);
        flushOutbox();
        offerEmail(e);
      } else if (s.state === "failed") {
        schedule(s.next_retry_ms - Date.now());
        // Keep the countdown honest.
        setTimeout(renderEscalationStatus, 1000);
      } else if (s.state === "sending") {
        schedule(s.started_ms + 30000 - Date.now());
      }
    } finally {
      pumping = false;
    }
  }

  function follow(e) {
    if (stream || destroyed) return;
    var s = e.status;
    var url = api("api/escalations/" + encodeURIComponent(s.id) + "/events?token=" + encodeURIComponent(s.token) +
      "&after=" + e.last_event_id);
    stream = new EventSource(url);
    stream.addEventListener("message", function (event) {
      var m;
      try { m = JSON.parse(event.data); } catch (err) { return; }
      if (!chat || typeof m.id !== "number") return;
      if (m.author === "agent") {
        if (chat.addAgentMessage(m.id, String(m.text), Date.now())) {
          clearQuickReplies();
          renderMessage("agent", m.text);
          emit("message", { from: "agent", text: m.text, id: String(m.id), quickReplies: [], links: [] });
        }
      } else {
        chat.escalationSeen(m.id);
      }
    });
    stream.addEventListener("status", function (event) {
      var st;
      try { st = JSON.parse(event.data); } catch (err) { return; }
      if (st.status === "resolved" && chat) {
        chat.escalationResolved();
        unfollow();
        hideOffline();
        renderEscalationStatus();
        askCsatAfterAgent();
      }
    });
    // EventSource reconnects by itself (with Last-Event-ID); an auth failure closes it for good.
    stream.addEventListener("error", function () {
      if (stream && stream.readyState === EventSource.CLOSED) {
        stream = null;
        schedule(5000);
      }
    });
  }

  function unfollow() {
    if (stream) stream.close();
    stream = null;
  }

  // Visitor messages to the agent, oldest first, each with its client_id (a retry is stored once).
  async function flushOutbox() {
    if (flushing || !chat) return;
    flushing = true;
    try {
      for (;;) {
        var e = chat.escalation();
        if (!e || e.status.state !== "sent" || e.outbox.length === 0) return;
        // Messages the server refused for good stay in the transcript and are not resent.
        var m = e.outbox.find(function (o) { return o.rejected == null; });
        if (!m) return;
        var wait = m.next_retry_ms - Date.now();
        if (wait > 0) { schedule(wait); return; }
        try {
          var response = await fetch(api("api/escalations/" + encodeURIComponent(e.status.id) + "/messages"), {
            method: "POST",
            headers: { "content-type": "application/json", authorization: "Bearer " + e.status.token },
            body: JSON.stringify({ text: m.text, client_id: m.client_id }),
            credentials: "omit",
          });
          if (response.status === 409) {
            // Resolved meanwhile: the message stays in the transcript; the bot answers from now on.
            chat.escalationDelivered(m.client_id);
            chat.escalationResolved();
            unfollow();
            renderEscalationStatus();
            return;
          }
          var step = chat.escalationMessageOutcome(m.client_id, response.status, retryAfterMs(response), Date.now());
          if (step && step.step === "failed") {
            console.warn("sottovoce: a message to the agent was refused: HTTP " + response.status);
            renderEscalationStatus();
          } else if (step && step.step === "wait_until") {
            schedule(step.at_ms - Date.now());
            return;
          }
        } catch (error) {
          console.warn("sottovoce: a message to the agent was not delivered yet:", error && error.message || error);
          var next = chat.escalationMessageOutcome(m.client_id, 0, undefined, Date.now());
          if (next && next.step === "wait_until") schedule(next.at_ms - Date.now());
          return;
        }
      }
    } finally {
      flushing = false;
    }
  }

  // ---------------------------------------------------------------- continuity: nobody online, email, other devices

  // One JSON POST to the escalation server, with the visitor's token when given.
  function postJson(path, token, body) {
    var headers = { "content-type": "application/json" };
    if (token) headers.authorization = "Bearer " + token;
    return fetch(api(path), { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "omit" });
  }

  // GET /api/availability: counts only (agents online, open now, the next opening, email
  // offered); nothing about the visitor is sent. null when the server cannot be reached.
  function checkAvailability() {
    if (!escalationConfig.url) return Promise.resolve(null);
    return fetch(api("api/availability"), { credentials: "omit" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).catch(function () { return null; });
  }

  // "Nobody is online right now. Expect an answer Monday 09:00." ("" when someone is online).
  function offlineText(a) {
    if (!a || a.agents_online > 0) return "";
    var when = a.expected_reply_ms == null ? t("offlineLater") : t("offlineAt",
      intl(Intl.DateTimeFormat, { weekday: "long", hour: "numeric", minute: "2-digit" }).format(new Date(a.expected_reply_ms)));
    return t("offline") + " " + when;
  }

  var offlineShownFor = ""; // the escalation id the notice (and email offer) was shown for

  function hideOffline() {
    offline.hidden = true;
    offline.textContent = "";
    offlineShownFor = "";
  }

  // Once an escalation is stored and nobody is online: say when an answer can be expected and,
  // when the server can email, offer to continue by email (asked with consent; the address is
  // stored on this escalation only, by the server, never on the device).
  function offerEmail(e) {
    var id = e.status.id;
    if (offlineShownFor === id) return;
    offlineShownFor = id;
    checkAvailability().then(function (a) {
      var now = escalation();
      if (!offlineText(a) || !now || now.status.state !== "sent" || now.status.id !== id) return;
      offline.textContent = "";
      offline.appendChild(el("p", { class: "sv-offline-note" }, [offlineText(a)]));
      if (a.email) offline.appendChild(emailForm(id, now.status.token));
      offline.hidden = false;
    });
  }

  function emailForm(id, token) {
    var address = el("input", { type: "email", class: "sv-input sv-email", autocomplete: "email", maxlength: "254", required: "" });
    var agree = el("input", { type: "checkbox", class: "sv-email-consent" });
    var problem = el("p", { class: "sv-email-problem", role: "alert" });
    var submit = el("button", { type: "submit", class: "sv-chip sv-primary" }, [t("emailSend")]);
    var f = el("form", { class: "sv-email-form" }, [
      el("p", {}, [t("emailOffer")]),
      el("label", {}, [t("emailAddress"), " ", address]),
      el("label", {}, [agree, " ", t("emailConsent")]),
      problem,
      el("div", { class: "sv-consent-actions" }, [submit]),
    ]);
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!agree.checked) { problem.textContent = t("emailNeedsConsent"); agree.focus(); return; }
      problem.textContent = "";
      submit.disabled = true;
      postJson("api/escalations/" + encodeURIComponent(id) + "/email", token, { email: address.value.trim(), consent: true })
        .then(function (r) {
          if (!r.ok) throw r.status;
          return r.json();
        }).then(function (body) {
          offline.replaceChild(emailGiven(id, token, String(body.email)), f);
        }).catch(function (status) {
          problem.textContent = t(status === 422 ? "emailInvalid" : "emailFailed");
          submit.disabled = false;
        });
    });
    return f;
  }

  // "We will write to ana@example.com …" and a button for the whole transcript by email.
  function emailGiven(id, token, email) {
    var again = el("button", { type: "button", class: "sv-chip" }, [t("emailTranscript")]);
    var done = el("p", { "aria-live": "polite" });
    again.addEventListener("click", function () {
      again.disabled = true;
      postJson("api/escalations/" + encodeURIComponent(id) + "/transcript", token, {}).then(function (r) {
        done.textContent = r.ok ? t("transcriptSent", email) : t("emailFailed");
        again.disabled = r.ok;
      }, function () { done.textContent = t("emailFailed"); again.disabled = false; });
    });
    return el("div", { class: "sv-email-given" }, [el("p", {}, [t("emailGiven", email)]), again, done]);
  }

  // Takes over a conversation started elsewhere: its messages join this transcript once and
  // the stream follows it from there (the core's Escalation::adopt).
  function adoptEscalation(c, created) {
    return fetch(api("api/escalations/" + encodeURIComponent(created.id) + "/messages"), {
      headers: { authorization: "Bearer " + created.token }, credentials: "omit",
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (body) {
      unfollow();
      hideOffline();
      c.escalationAdopt(created, body.messages || [], newKey(), Date.now(), escalationConfig.policy);
      renderTranscript(c.transcript());
      renderEscalationStatus();
      pump();
    });
  }

  // An emailed link (…?sv_resume=…) reopens its conversation here with a fresh token; the
  // parameter leaves the address bar at once so a shared screenshot or bookmark cannot reuse it.
  function resumeFromLink(c) {
    var params = new URLSearchParams(location.search);
    var code = params.get("sv_resume");
    if (!code || !escalationConfig.url) return Promise.resolve(false);
    params.delete("sv_resume");
    var rest = params.toString();
    try { history.replaceState(history.state, "", location.pathname + (rest ? "?" + rest : "") + location.hash); } catch (e) { /* sandboxed */ }
    return postJson("api/escalations/resume", null, { resume: code }).then(function (r) {
      if (!r.ok) throw r.status;
      return r.json();
    }).then(function (created) {
      return adoptEscalation(c, created).then(function () { open(); return true; });
    }).catch(function (status) {
      console.warn("sottovoce: the conversation link could not be opened:", status && status.message || status);
      escStatus.textContent = t(status === 401 ? "resumeExpired" : "resumeFailed");
      open();
      return false;
    });
  }

  // A customer the site identified and vouched for (user_hash) sees their open escalation, and
  // the agent's replies, on this device too. Only when the owner lets customer_id be sent with
  // an escalation (profileFields), since the id then goes to the escalation server.
  function followCustomer(c, customer) {
    var fields = escalationConfig.policy.profile_fields || [];
    if (!escalationConfig.url || fields.indexOf("customer_id") < 0 || !customer || !customer.user_hash || escalationActive()) {
      return Promise.resolve(false);
    }
    return postJson("api/escalations/by-customer", null, { customer_id: String(customer.id), user_hash: String(customer.user_hash) })
      .then(function (r) { return r.ok ? r.json() : { escalations: [] }; })
      .then(function (body) {
        var newest = (body.escalations || []).sort(function (a, b) { return b.created_ms - a.created_ms; })[0];
        if (!newest || escalationActive()) return false;
        return adoptEscalation(c, newest).then(function () { return true; });
      }).catch(function (error) {
        console.warn("sottovoce: could not look for this customer's open conversation:", error && error.message || error);
        return false;
      });
  }

  function hideConsent() {
    consent.hidden = true;
    consent.textContent = "";
  }

  // Shows exactly what would be sent (text nodes only) with Connect me / Not now.
  function showConsent(c) {
    var payload;
    try {
      payload = c.escalationPreview(escalationConfig.policy);
    } catch (error) {
      console.warn("sottovoce: cannot prepare the escalation:", error && error.message || error);
      return;
    }
    consent.textContent = "";
    consent.appendChild(el("h3", { class: "sv-consent-title" }, [t("consentTitle")]));
    consent.appendChild(el("p", {}, [t("consentIntro")]));
    var list = el("ol", { class: "sv-consent-list", "aria-label": t("conversation") });
    payload.transcript.forEach(function (m) {
      var item = el("li", { class: "sv-consent-" + m.author }, [
        el("strong", {}, [/^(visitor|bot|agent)$/.test(m.author) ? t(m.author + "_speaker") : m.author]), " ", m.text,
      ]);
      if (m.author === "visitor") {
        item.appendChild(el("span", { class: "sv-annotation" }, [" (" + (m.intent || t("notUnderstood")) +
          (m.confidence == null ? "" : ", " + intl(Intl.NumberFormat, { style: "percent" }).format(m.confidence)) + ")"]));
      }
      list.appendChild(item);
    });
    consent.appendChild(list);
    var fields = Object.keys(payload.profile).map(function (k) { return k + ": " + String(payload.profile[k]); });
    // The site's customer id leaves only when the owner allows customer_id (with the site's user_hash).
    if (payload.customer) fields.push("customer_id: " + payload.customer.id);
    if (fields.length) {
      consent.appendChild(el("p", {}, [t("consentProfile")]));
      consent.appendChild(el("ul", { class: "sv-consent-profile" }, fields.map(function (line) {
        return el("li", {}, [line]);
      })));
    }
    var agree = el("button", { type: "button", class: "sv-chip sv-primary" }, [t("consentAgree")]);
    var cancel = el("button", { type: "button", class: "sv-chip" }, [t("consentCancel")]);
    agree.addEventListener("click", function () {
      try {
        c.escalationQueue(newKey(), Date.now(), escalationConfig.policy);
      } catch (error) {
        console.warn("sottovoce: cannot queue the escalation:", error && error.message || error);
        hideConsent();
        return;
      }
      hideConsent();
      renderEscalationStatus();
      input.focus();
      pump();
    });
    cancel.addEventListener("click", function () { hideConsent(); input.focus(); });
    // Nobody online: say so before the visitor agrees, and when to expect an answer.
    var notice = el("p", { class: "sv-offline-note", "aria-live": "polite" });
    consent.appendChild(notice);
    checkAvailability().then(function (a) { notice.textContent = offlineText(a); });
    consent.appendChild(el("div", { class: "sv-consent-actions" }, [agree, cancel]));
    consent.hidden = false;
    log.scrollTop = log.scrollHeight;
  }

  // ---------------------------------------------------------------- product recommendations

  var catalogPromise = null;

  function loadCatalog() {
    if (!catalogPromise) {
      // The recommender is a module of its own (pkg/sottovoce_catalog.js), fetched with the
      // catalog, so pages that never recommend never download it.
      var moduleUrl = new URL("sottovoce_catalog.js", pkgUrl).href;
      var mod = import(moduleUrl).then(function (m) { return m.default().then(function () { return m; }); });
      // Compiled (`sottovoce build --catalog`, .svc) or JSONL: the recommender tells them apart.
      var bytes = fetch(catalogUrl, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("fetching " + catalogUrl + " failed: HTTP " + response.status);
        return response.arrayBuffer();
      });
      catalogPromise = Promise.all([mod, bytes]).then(function (both) { return both[0].Catalog.fromBytes(new Uint8Array(both[1])); });
      catalogPromise.catch(function () { catalogPromise = null; }); // try again next time
    }
    return catalogPromise;
  }

  // A price in the conversation's locale's format.
  function formatPrice(price) {
    try {
      return intl(Intl.NumberFormat, { style: "currency", currency: price.currency }).format(price.amount);
    } catch (e) {
      return price.amount + " " + price.currency;
    }
  }

  // What a turn asks of the catalog: products for a request (refined or not), two of the
  // products shown side by side, the prices of those shown (the same table, whose first row
  // is the price), or what goes with the first one shown. Worked out before the bot's messages
  // are shown; resolves to null when there is nothing to show (never rejects), else to
  // `{ products, show }`: `products` is true when products for a request will be shown (the
  // reply's `with_products` is then said instead of its first message), `show()` shows them.
  function catalogAnswer(turn, lang) {
    var about = turn.products;
    var ready = about && (about.kind === "compare" || about.kind === "price") ? comparison(about.products, lang) :
      about && about.kind === "related" ? productCards(null, lang, about.products[0]) :
      turn.recommend ? productCards(turn.recommend, lang, null, about ? about.products : [], turn.recommend_terms) : null;
    return Promise.resolve(ready).then(null, function (error) {
      console.warn("sottovoce: no products:", error && error.message || error);
      return null;
    });
  }

  // Up to three product cards for `request` (or, with `relatedTo`, what goes with that
  // product): image, name, price in the visitor's format, stock, a link; catalog text goes in
  // as text nodes only. The core is told which were shown (Chat.shown).
  function productCards(request, lang, relatedTo, shown, terms) {
    return loadCatalog().then(function (catalog) {
      // What the site reported (track: viewed, in_cart, bought) and what the visitor told the
      // chat (their size, what they do, their budget) nudge the order.
      var context = { viewed: [], in_cart: [], bought: [], sizes: [], interests: [], budget: null, shown: shown || [], terms: terms || [] };
      var lists = { viewed: "viewed", in_cart: "in_cart", bought: "bought", size: "sizes", activity: "interests" };
      ((chat && chat.profile().facts) || []).forEach(function (f) {
        if (lists[f.entity]) context[lists[f.entity]].push(String(f.value));
        else if (f.entity === "budget" && parseFloat(f.value) > 0) context.budget = parseFloat(f.value);
      });
      var cards = relatedTo ? catalog.related(relatedTo, lang, 3) : catalog.rank(request, lang, 3, context);
      return cards.length ? { products: !relatedTo, show: function () { showProducts(cards, request, relatedTo); } } : null;
    });
  }

  function showProducts(cards, request, relatedTo) {
    var ids = cards.map(function (p) { return p.id; });
    if (!relatedTo && chat && typeof chat.shown === "function") chat.shown(ids);
    var list = el("ul", { class: "sv-products", "aria-label": t(relatedTo ? "goesWith" : "products") }, cards.map(function (p) {
      var children = [];
      var image = p.image && safeUrl(p.image);
      if (image && /^https?:/.test(image)) children.push(el("img", { src: image, alt: "", class: "sv-product-image", loading: "lazy" }));
      children.push(el("strong", { class: "sv-product-name" }, [String(p.name)]));
      children.push(el("span", { class: "sv-product-price" }, [formatPrice(p.price)]));
      if (!p.in_stock) children.push(el("span", { class: "sv-product-stock" }, [t("outOfStock")]));
      var href = safeUrl(p.url);
      if (href && /^https?:/.test(href)) {
        children.push(el("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "sv-link" }, [t("viewProduct")]));
      }
      return el("li", { class: "sv-product", "data-product": String(p.id) }, children);
    }));
    log.appendChild(list);
    // Cross-sell and a cheaper choice, one tap away: each sends its words as the visitor's
    // message, which the core reads as the follow-up it names (tests/stories/product-buttons*.yaml).
    if (!relatedTo) {
      if (productButtons) productButtons.remove();
      productButtons = el("div", { class: "sv-quick", role: "group", "aria-label": t("suggestions") },
        ["productGoesWith", "productCheaper"].map(function (key) {
          var label = t(key);
          var b = el("button", { type: "button", class: "sv-chip" }, [label]);
          b.addEventListener("click", function () { send(label); });
          return b;
        }));
      log.appendChild(productButtons);
    }
    log.scrollTop = log.scrollHeight;
    emit("products", { request: request, related: relatedTo || null, products: ids });
  }

  // Products side by side (two compared, or the one to three whose price was asked): a table
  // with their names, prices, stock and every attribute any has; all catalog text as text nodes.
  function comparison(ids, lang) {
    return loadCatalog().then(function (catalog) {
      var c = catalog.compare(ids, lang);
      return c.products.length ? { products: false, show: function () { showComparison(c); } } : null;
    });
  }

  function showComparison(c) {
    var row = function (label, cells) {
      return el("tr", null, [el("th", { scope: "row" }, [label])].concat(cells.map(function (v) { return el("td", null, [v == null ? "–" : String(v)]); })));
    };
    var rows = [
      row(t("price"), c.products.map(function (p) { return formatPrice(p.price); })),
      row(t("inStock"), c.products.map(function (p) { return p.in_stock ? "✓" : "✗"; })),
    ].concat(c.rows.map(function (r) { return row(String(r.label), r.values); }));
    var head = el("tr", null, [el("td")].concat(c.products.map(function (p) {
      var href = safeUrl(p.url);
      var name = href && /^https?:/.test(href) ? el("a", { href: href, target: "_blank", rel: "noopener noreferrer", class: "sv-link" }, [String(p.name)]) : String(p.name);
      return el("th", { scope: "col", "data-product": String(p.id) }, [name]);
    })));
    log.appendChild(el("table", { class: "sv-compare", "aria-label": t("comparison") }, [el("thead", null, [head]), el("tbody", null, rows)]));
    log.scrollTop = log.scrollHeight;
    emit("products", { compare: c.products.map(function (p) { return p.id; }), products: [] });
  }

  // ---------------------------------------------------------------- what the bot remembers

  // One remembered fact in the visitor's words: "Your order: CU-123 (said in chat, 4 Dec 2026)".
  function describeFact(f) {
    var what = UI.en[f.entity + "_fact"] ? t(f.entity + "_fact") : f.entity;
    var when = f.source === "site" ? t("siteGiven") :
      f.at_ms ? t("saidInChatOn", intl(Intl.DateTimeFormat, { dateStyle: "medium" }).format(f.at_ms)) : t("saidInChat");
    return what + ": " + f.value + " (" + when + ")";
  }

  function hideRemembered() {
    remembered.hidden = true;
    remembered.textContent = "";
    rememberedButton.setAttribute("aria-expanded", "false");
  }

  // Lists what the chat keeps about the visitor (text nodes only), each with a Forget button,
  // and Forget me, which deletes everything this chat stored on the device.
  function showRemembered(c) {
    var profile = c.profile();
    var facts = (profile.name ? [{ entity: "name", value: profile.name, at_ms: null }] : []).concat(profile.facts || []);
    // A language the visitor chose (a request, a button, the menu) is kept like a fact.
    if (profile.locale_chosen) facts.unshift({ entity: "language", key: profile.locale, value: endonym(profile.locale), at_ms: null });
    if (profile.customer) {
      var orders = (profile.customer.orders || []).map(function (o) { return o.id; }).join(", ");
      facts.push({ entity: "customer", source: "site", value: (profile.customer.email || profile.customer.id) + (orders ? " · " + orders : "") });
    }
    (profile.topics || []).forEach(function (t) {
      var about = Object.keys(t.values || {}).map(function (k) { return t.values[k]; }).join(", ");
      facts.push({ entity: "topic", key: t.kind, source: t.source, at_ms: t.at_ms, value: t.kind + (about ? ": " + about : "") });
    });
    (profile.taught || []).forEach(function (l) {
      facts.push({ entity: "taught", key: l.text, at_ms: l.at_ms, value: "\u201c" + l.text + "\u201d " + t(l.up ? "taughtMeant" : "taughtNotMeant") + " " + l.intent });
    });
    remembered.textContent = "";
    remembered.appendChild(el("h3", { class: "sv-consent-title" }, [t("remembered")]));
    remembered.appendChild(el("p", {}, [t(facts.length ? "rememberedIntro" : "rememberedNothing")]));
    if (kpiReporting && escalationConfig.url) remembered.appendChild(el("p", { class: "sv-kpi-note" }, [t("kpiNote")]));
    if (facts.length) {
      remembered.appendChild(el("ul", { class: "sv-consent-profile" }, facts.map(function (f) {
        var forget = el("button", { type: "button", class: "sv-text-button" }, [t("forget")]);
        forget.setAttribute("aria-label", t("forget") + ": " + f.value);
        forget.addEventListener("click", function () {
          c.forget(f.entity, String(f.key || f.value));
          showRemembered(c);
          rememberedButton.focus();
        });
        return el("li", { class: "sv-fact" }, [describeFact(f) + " ", forget]);
      })));
    }
    var forgetMe = el("button", { type: "button", class: "sv-chip sv-primary" }, [t("forgetMe")]);
    forgetMe.addEventListener("click", function () {
      var serverHasCopy = c.forgetMe(Date.now());
      clearView();
      try { window.localStorage.removeItem(uiKey); } catch (e) { /* storage blocked: nothing stored */ }
      forgetKpiId();
      if (serverHasCopy) setStatus("forgotten", "serverCopy");
      else setStatus("forgotten");
      showLocale();
      emit("forget", { serverHasCopy: serverHasCopy });
      input.focus();
    });
    remembered.appendChild(el("div", { class: "sv-consent-actions" }, [forgetMe]));
    remembered.hidden = false;
    rememberedButton.setAttribute("aria-expanded", "true");
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return "sv-" + crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "sv-" + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // While a person has the conversation, the visitor's words go to them (queued, never dropped).
  function toAgent(text) {
    var result = queue.then(async function () {
      var c = await start();
      c.escalationMessage(text, Date.now());
      clearQuickReplies();
      renderMessage("visitor", text);
      emit("message", { from: "visitor", text: text, id: null, quickReplies: [], links: [] });
      flushOutbox();
      return { messages: [], intent: null, confidence: null, ranking: [], entities: [], locale: null, handoff: false, toAgent: true };
    });
    queue = result.catch(function () {});
    return result;
  }

  function onOnline() { schedule(0); }
  window.addEventListener("online", onOnline);

  // ---------------------------------------------------------------- open / close

  function isOpen() {
    return !panel.hidden;
  }

  // The launcher hides while the panel is open; the panel has its own close button.
  function open(options) {
    if (isOpen()) return;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    uiState("open");
    start();
    if (!chat && !status.textContent) setStatus("starting");
    log.scrollTop = log.scrollHeight;
    if (!options || options.focus !== false) input.focus();
    emit("open", {});
  }

  function close() {
    if (!isOpen()) return;
    var hadFocus = root.activeElement && panel.contains(root.activeElement);
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    uiState("closed");
    if (hadFocus) launcher.focus();
    emit("close", {});
  }

  launcher.addEventListener("click", function () { open(); });
  closeButton.addEventListener("click", close);
  rememberedButton.addEventListener("click", function () {
    if (!remembered.hidden) { hideRemembered(); return; }
    start().then(showRemembered, function () { setStatus("unavailable"); });
  });
  startOver.addEventListener("click", function () {
    reset().then(function () { input.focus(); }, function () { setStatus("unavailable"); });
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    // The text leaves the box only once the bot has taken it; on failure it stays for a retry.
    sendButton.disabled = true;
    if (!chat) setStatus("starting");
    send(text).then(function () {
      if (input.value === text) input.value = "";
    }, function (error) {
      console.warn("sottovoce: sending failed:", error);
      setStatus("notSent");
    }).finally(function () {
      sendButton.disabled = false;
      input.focus();
    });
  });

  function mount() {
    document.body.appendChild(host);
    if (uiState() === "open" || (settings.openOnLoad && uiState() !== "closed")) open({ focus: false }); // reopened as the visitor left it
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });

  // ---------------------------------------------------------------- proactive teasers

  // The core decides when the bot speaks first (the definition's `triggers`, with their caps and
  // the visitor's "no tips", kept in the conversation state); this part only watches the page and
  // draws. It reports ticks, exit intent (the pointer leaving through the top), a return to the
  // tab and the site's track() events, each with the page as it is (path, time on it, scroll
  // depth, idle time, typing, chat open). A teaser sits beside the launcher in a polite live
  // region: it never opens the panel by itself; clicking it opens the chat with the teaser as the
  // bot's message, × dismisses it (no other this visit), "No tips" stops them (What I remember
  // shows it, and forgetting it brings them back). ?sottovoce-trigger=<id> previews a trigger.
  // The site hears "proactive:shown", "proactive:clicked" and "proactive:dismissed" ({trigger}).
  var TICK_MS = 5000;
  var pageStarted = Date.now();
  var lastActivity = pageStarted;
  var lastKey = 0;
  var maxScroll = 0;
  var currentTeaser = null;
  var teaserText = el("span", { class: "sv-teaser-text" });
  var teaserOpen = el("button", { type: "button", class: "sv-teaser-open" }, [teaserText]);
  var teaserClose = el("button", { type: "button", class: "sv-icon-button sv-teaser-close" }, [icon(["M6 6l12 12M18 6L6 18"])]);
  var teaserNoTips = el("button", { type: "button", class: "sv-text-button sv-teaser-notips" });
  var teaser = el("div", { class: "sv-teaser", role: "region", hidden: "" }, [teaserOpen, teaserClose, teaserNoTips]);
  var teaserLive = el("p", { class: "sv-sr-only sv-teaser-live", "aria-live": "polite" });
  frame.insertBefore(teaser, launcher);
  frame.appendChild(teaserLive);

  function drawTeaserChrome() {
    teaser.setAttribute("aria-label", t("teaser"));
    teaserOpen.setAttribute("aria-label", t("teaserOpen") + ": " + teaserText.textContent);
    teaserClose.setAttribute("aria-label", t("teaserDismiss"));
    teaserNoTips.textContent = t("noTips");
  }

  function scrollDepth() {
    var doc = document.documentElement;
    var height = Math.max(doc.scrollHeight, document.body ? document.body.scrollHeight : 0);
    var seen = window.innerHeight >= height ? 100 : Math.round((window.scrollY + window.innerHeight) / height * 100);
    maxScroll = Math.max(maxScroll, Math.min(100, seen));
    return maxScroll;
  }

  function pageContext(now) {
    var typing = now - lastKey < 3000 || (!!input.value && isOpen());
    return {
      url: location.pathname + location.search,
      time_on_page_ms: Math.max(0, now - pageStarted),
      scroll_pct: scrollDepth(),
      idle_ms: Math.max(0, now - lastActivity),
      typing: typing,
      // A teaser on screen counts as the chat being open: one at a time.
      chat_open: isOpen() || !!currentTeaser,
      now_ms: now,
      utc_offset_min: visitorUtcOffset(now),
    };
  }

  // Reports `event` ("tick", "exit_intent", "tab_return", or "track" with the site's event name
  // in `tracked`) to the core once the bot is loaded (before that there is nothing to keep it
  // in; track() waits for the bot itself) and shows the teaser it returns, if any.
  function proactiveEvent(event, tracked) {
    if (!chat || typeof chat.proactive !== "function") return;
    try {
      var shown = chat.proactive(event, pageContext(Date.now()), tracked);
      if (shown) showTeaser(shown, false);
    } catch (error) {
      console.warn("sottovoce: proactive check failed:", error);
    }
  }

  function showTeaser(shown, preview) {
    currentTeaser = shown;
    teaserText.textContent = shown.message.text;
    drawTeaserChrome();
    teaser.hidden = false;
    teaserLive.textContent = "";
    teaserLive.textContent = t("teaser") + ": " + shown.message.text;
    emit("proactive:shown", { trigger: shown.trigger, text: shown.message.text, preview: preview });
  }

  function hideTeaser() {
    currentTeaser = null;
    teaser.hidden = true;
    teaserLive.textContent = "";
  }

  teaserOpen.addEventListener("click", function () {
    var shown = currentTeaser;
    if (!shown) return;
    hideTeaser();
    open();
    var message = chat.openTeaser(shown.trigger, Date.now());
    if (message) {
      clearQuickReplies();
      showBotMessages([message]);
    }
    emit("proactive:clicked", { trigger: shown.trigger });
  });
  teaserClose.addEventListener("click", function () {
    var shown = currentTeaser;
    if (!shown) return;
    hideTeaser();
    chat.dismissTeaser();
    emit("proactive:dismissed", { trigger: shown.trigger, noTips: false });
    launcher.focus();
  });
  teaserNoTips.addEventListener("click", function () {
    var shown = currentTeaser;
    if (!shown) return;
    hideTeaser();
    chat.noTips(Date.now());
    emit("proactive:dismissed", { trigger: shown.trigger, noTips: true });
    launcher.focus();
  });

  function startProactive() {
    var activity = function () { lastActivity = Date.now(); };
    // Through listen() and teardown, so destroy() stops them with the rest of the widget.
    ["pointermove", "pointerdown", "scroll", "touchstart", "wheel"].forEach(function (type) {
      listen(window, type, activity, { passive: true, capture: true });
    });
    listen(window, "keydown", function () { lastActivity = lastKey = Date.now(); }, { capture: true });
    listen(document, "mouseout", function (event) {
      if (!event.relatedTarget && event.clientY <= 0) proactiveEvent("exit_intent");
    });
    listen(document, "visibilitychange", function () {
      if (document.visibilityState === "visible") proactiveEvent("tab_return");
    });
    var ticker = setInterval(function () { proactiveEvent("tick"); }, TICK_MS);
    teardown.push(function () { clearInterval(ticker); });
    var previewId = new URLSearchParams(location.search).get("sottovoce-trigger");
    var preview = previewId && chat.previewTeaser(previewId);
    if (preview) showTeaser(preview, true);
    else proactiveEvent("tick");
  }
  on("ready", startProactive);
  on("open", hideTeaser);

  // An agent resolved the escalation: the bot asks how it went (the definition's `csat`).
  function askCsatAfterAgent() {
    var question = typeof chat.askCsat === "function" && chat.askCsat(Date.now());
    if (question) showBotMessages([question]);
  }

  Object.defineProperty(window, "sottovoce", {
    value: Object.freeze({
      open: function () { open(); },
      close: function () { close(); },
      send: function (text) { return send(text); },
      reset: function () { return reset(); },
      // The site says who its logged-in visitor is ({ id, name, email, locale, traits, orders:
      // [{ id, status, placed_at, items, tracking_url }] }): kept on this device only.
      identify: function (customer) {
        return start().then(function (c) {
          c.identify(customer);
          // Their open escalation from another device, when the owner allows customer_id.
          queue = queue.then(function () { return followCustomer(c, customer); });
          return queue.then(function () {});
        });
      },
      // What the visitor does on the site: track("product_view" | "add_to_cart" | "purchase",
      // { name }), kept on this device only (What I remember), for bots that keep a profile.
      track: function (event, props) {
        return start().then(function (c) {
          var kept = c.track(String(event), String(props && props.name || ""), Date.now());
          proactiveEvent("track", String(event));
          return kept;
        });
      },
      on: on,
      configureEscalation: function (options) { configureEscalation(options); },
      // The chat's locale, as if chosen in its language menu: resolves to the locale set.
      setLocale: function (code) { return setLocaleFromPage(code); },
      // The launcher shown or hidden (e.g. on a checkout page); open() still works.
      show: function () { showLauncher(true); },
      hide: function () { showLauncher(false); },
      // Removes the widget from the page (DOM, listeners, the agent stream); storage stays.
      destroy: function () { destroy(); },
    }),
    writable: false,
    configurable: false,
    enumerable: true,
  });
})();
