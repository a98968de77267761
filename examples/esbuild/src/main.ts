// Plain DOM on the npm API, bundled by esbuild: the runtime build, a model in two parts.
import init, { Chat, type BotMessage } from "sottovoce";
import wasmUrl from "sottovoce/sottovoce_bg.wasm";

const log = document.querySelector<HTMLOListElement>("#log")!;
const form = document.querySelector<HTMLFormElement>("#form")!;
const input = document.querySelector<HTMLInputElement>("#input")!;

function show(from: "visitor" | "bot", text: string): void {
  const item = document.createElement("li");
  item.dataset.from = from;
  item.textContent = text; // text only: a bot's words are never HTML
  log.append(item);
}
const showBot = (messages: BotMessage[]) => messages.forEach((m) => show("bot", m.text));

async function bytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

await init({ module_or_path: new URL(wasmUrl, import.meta.url) });
const chat = new Chat(await bytes("store.common.svm"), { locale: "en", persist: false });
for (const code of chat.missingLocales()) {
  if (code === chat.locale()) chat.addLocale(await bytes(`store.${code}.svm`));
}
showBot(chat.begin(Date.now()));
form.querySelector("button")!.disabled = false;

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  show("visitor", text);
  showBot(chat.send(text, Date.now()).messages);
  input.value = "";
});
