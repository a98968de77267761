// Plain JavaScript (type-checked from JSDoc by tsc --strict) on the npm API, bundled by webpack:
// `init()` with no argument fetches the wasm webpack emitted next to the bundle.
import init, { Chat } from "sottovoce";

/** @param {string} id */
function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  return node;
}
const log = byId("log");
const status = byId("status");
const form = /** @type {HTMLFormElement} */ (byId("form"));
const input = /** @type {HTMLInputElement} */ (byId("input"));

/** @param {"visitor" | "bot"} from @param {string} text */
function say(from, text) {
  const item = document.createElement("li");
  item.setAttribute("data-from", from);
  item.append(document.createTextNode(text));
  log.append(item);
}

/** @param {string} url @returns {Promise<Uint8Array>} */
const download = (url) =>
  fetch(url).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${url}: HTTP ${r.status}`)))).then((b) => new Uint8Array(b));

/** @returns {Promise<Chat>} */
async function start() {
  await init();
  const chat = new Chat(await download("store.common.svm"), { locale: navigator.language, persist: false });
  const locale = chat.locale();
  if (chat.missingLocales().includes(locale)) chat.addLocale(await download(`store.${locale}.svm`));
  return chat;
}

start().then(
  (chat) => {
    for (const message of chat.begin(Date.now())) say("bot", message.text);
    status.textContent = `${chat.botName()} is ready`;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      say("visitor", text);
      for (const message of chat.send(text, Date.now()).messages) say("bot", message.text);
      input.value = "";
    });
  },
  (error) => {
    status.textContent = `The assistant could not start: ${error}`;
  },
);
