// A chat component on the npm API: opens a compiled model in parts (`sottovoce build --split`:
// the common file, then the part of the visitor's locale), greets, and renders every turn as
// text (React makes text nodes; the bot's words are never HTML).
import { useEffect, useRef, useState, type FormEvent } from "react";
import init, { Chat, type BotMessage } from "sottovoce";

type Line = { from: "visitor" | "bot"; text: string };

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Opens the model at `model` (a `.common.svm` file) for `locale`, its locale part beside it. */
async function openChat(model: string, locale: string): Promise<Chat> {
  const [, common] = await Promise.all([init(), fetchBytes(model)]);
  const chat = new Chat(common, { locale, persist: false });
  if (chat.missingLocales().includes(chat.locale())) {
    chat.addLocale(await fetchBytes(model.replace(/\.common\.svm$/, `.${chat.locale()}.svm`)));
  }
  return chat;
}

const botLines = (messages: BotMessage[]): Line[] => messages.map((m) => ({ from: "bot", text: m.text }));

export function ChatBox({ model, locale }: { model: string; locale: string }) {
  const chat = useRef<Chat | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");

  useEffect(() => {
    let cancelled = false;
    openChat(model, locale).then(
      (opened) => {
        if (cancelled) return opened.free();
        chat.current = opened;
        setLines(botLines(opened.begin(Date.now())));
      },
      (e: unknown) => setError(String(e)),
    );
    return () => {
      cancelled = true;
      chat.current?.free();
      chat.current = null;
    };
  }, [model, locale]);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const text = draft.trim();
    if (!text || !chat.current) return;
    const now = Date.now();
    const turn = chat.current.send(text, now, -new Date(now).getTimezoneOffset());
    setLines((previous) => [...previous, { from: "visitor", text }, ...botLines(turn.messages)]);
    setDraft("");
  }

  return (
    <section aria-label="Chat" data-ready={chat.current ? "yes" : "no"}>
      <ol className="log" aria-live="polite">
        {lines.map((line, i) => (
          <li key={i} data-from={line.from}>{line.text}</li>
        ))}
      </ol>
      {error && <p role="alert">{error}</p>}
      <form onSubmit={submit}>
        <input aria-label="Message" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit" disabled={!chat.current}>Send</button>
      </form>
    </section>
  );
}
