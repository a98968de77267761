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
 * `word_vectors` also fetches pkg/vectors-<name>.svvec once, other bots never do), data-locale
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
 * URL the bot's own contact options are the answer.
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
 * The page gets one frozen global: window.sottovoce = { open, close, send, reset, on, identify,
 * track } (identify(customer): the site's logged-in customer and orders; track(event, {name}):
 * product views, cart and purchases; both kept on the device only).
 * Events for on(name, handler): "message" ({from, text, id, quickReplies, links}), "intent"
 * ({text, intent, confidence, ranking, entities, locale}), "ready" ({botName, storage, source,
 * loadMs}), "open", "close", "error" ({message}), "forget" ({serverHasCopy}: the visitor chose
 * Forget me under What I remember), "products" ({request, products: ids} shown for a request),
 * "proactive:shown" ({trigger, text, preview}), "proactive:clicked" ({trigger}) and
 * "proactive:dismissed" ({trigger, noTips}) for the teasers of the bot's `triggers` (see the
 * proactive section below; ?sottovoce-trigger=<id> on a page previews one). on() returns a function that unsubscribes.
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
      remembered: "What I remember",
      rememberedIntro: "What this chat keeps about you, on this device only:",
      rememberedNothing: "Nothing yet.",
      forget: "Forget",
      forgetMe: "Forget me",
      forgotten: "Everything this site's chat stored about you on this device was deleted.",
      serverCopy: "Our support team still has the conversation you sent them; ask them there to delete it.",
      name_fact: "Your name",
      product_fact: "You asked about",
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
      escMessageRejected: "A message could not be delivered to our team and will not be resent; it stays in your conversation.",
      // Read before each message by screen readers (visually hidden), so the log says who spoke.
      visitor_speaker: "You:",
      bot_speaker: "Assistant:",
      agent_speaker: "Support agent:",
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
    status,
    note,
    form,
  ]);
  frame.appendChild(panel);
  frame.appendChild(launcher);

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
    launcher.setAttribute("aria-label", t("open"));
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
    langButton.setAttribute("aria-label", t("language") + ": " + endonym(locale));
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
  function chooseLocale(code) {
    chosenLocale = code;
    showLocale();
    langButton.focus();
    start().then(function (c) {
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

  function clearQuickReplies() {
    if (quickReplyGroup) quickReplyGroup.remove();
    quickReplyGroup = null;
  }

  function renderMessage(from, text, extras) {
    extras = extras || {};
    var bubble = el("div", { class: "sv-msg sv-from-" + from, "data-from": from }, [
      el("span", { class: "sv-sr-only" }, [/^(visitor|bot|agent)$/.test(from) ? t(from + "_speaker") : ""]),
      el("p", { class: "sv-text", dir: "auto" }, [String(text)]),
    ]);
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

  async function load() {
    if (!botUrl) throw new Error("the script tag has no data-bot attribute");
    // The module loads while the bot downloads: the runtime build for a model, the full build
    // for definition JSON (guessed from a .json URL, then checked by the model's magic bytes).
    function start(url) { return import(url).then(function (mod) { return mod.default().then(function () { return mod; }); }); }
    var guessFull = /\.json$/i.test(new URL(botUrl).pathname);
    var modulePromise = start(guessFull ? pkgFullUrl : pkgUrl);
    var response = await fetch(botUrl, { credentials: "same-origin" });
    if (!response.ok) throw new Error("fetching " + botUrl + " failed: HTTP " + response.status);
    var bytes = new Uint8Array(await response.arrayBuffer());
    var isModel = bytes.length >= 4 && bytes[0] === 0x53 && bytes[1] === 0x56 && bytes[2] === 0x4d && bytes[3] === 0; // "SVM\0"
    if (isModel === guessFull) {
      modulePromise.catch(function () {}); // the other build is not needed after all
      modulePromise = start(isModel ? pkgUrl : pkgFullUrl);
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
      c = mod.Chat.withVectors(bytes, await wordVectors(mod, table), { locale: localeHint });
    }
    // The conversation's locale first (a returning visitor's, else the best match for the
    // browser's languages), and the default locale if that part could not load.
    await ensureLocale(c, c.locale());
    if (c.missingLocales && c.missingLocales().indexOf(c.locale()) >= 0) await ensureLocale(c, c.locales()[0]);
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
    if (!ready) {
      loadStarted = performance.now();
      ready = load();
      ready.catch(function (error) {
        console.warn("sottovoce: the assistant could not start:", error);
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

  function turn(run, visitorText) {
    var result = queue.then(async function () {
      var c = await start();
      if (typeof c.localeNeeded === "function") await ensureLocale(c, c.localeNeeded(visitorText));
      var t = run(c);
      clearQuickReplies();
      hideConsent(); // moving on without answering the offer declines it
      renderMessage("visitor", visitorText, { intent: t.intent });
      emit("message", { from: "visitor", text: visitorText, id: null, quickReplies: [], links: [] });
      emit("intent", {
        text: visitorText, intent: t.intent, confidence: t.confidence, ranking: t.ranking,
        entities: t.entities, locale: t.locale, handoff: t.handoff,
      });
      showLocale(); // the conversation may have changed language
      showBotMessages(t.messages);
      setStatus("");
      if (t.recommend && catalogUrl) showProducts(t.recommend, t.locale || chat.locale());
      if (t.handoff && escalationConfig.url && !escalationActive()) showConsent(chat);
      return t;
    });
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
    hideRemembered();
    renderEscalationStatus();
    log.textContent = "";
    quickReplyGroup = null;
  }

  async function reset() {
    var c = await start();
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
    if (stream) return;
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

  // Up to three product cards for `request` after the bot's answer: image, name, price in the
  // visitor's format, stock, a link; catalog text goes in as text nodes only.
  function showProducts(request, lang) {
    return loadCatalog().then(function (catalog) {
      // What the site reported (track: viewed, in_cart, bought) nudges the order.
      var context = { viewed: [], in_cart: [], bought: [] };
      ((chat && chat.profile().facts) || []).forEach(function (f) { if (context[f.entity]) context[f.entity].push(String(f.value)); });
      var cards = catalog.rank(request, lang, 3, context);
      if (!cards.length) return;
      var list = el("ul", { class: "sv-products", "aria-label": t("products") }, cards.map(function (p) {
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
      log.scrollTop = log.scrollHeight;
      emit("products", { request: request, products: cards.map(function (p) { return p.id; }) });
    }, function (error) {
      console.warn("sottovoce: no product recommendations:", error && error.message || error);
    });
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
    if (profile.customer) {
      var orders = (profile.customer.orders || []).map(function (o) { return o.id; }).join(", ");
      facts.push({ entity: "customer", source: "site", value: (profile.customer.email || profile.customer.id) + (orders ? " · " + orders : "") });
    }
    (profile.topics || []).forEach(function (t) {
      var about = Object.keys(t.values || {}).map(function (k) { return t.values[k]; }).join(", ");
      facts.push({ entity: "topic", key: t.kind, source: t.source, at_ms: t.at_ms, value: t.kind + (about ? ": " + about : "") });
    });
    remembered.textContent = "";
    remembered.appendChild(el("h3", { class: "sv-consent-title" }, [t("remembered")]));
    remembered.appendChild(el("p", {}, [t(facts.length ? "rememberedIntro" : "rememberedNothing")]));
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

  window.addEventListener("online", function () { schedule(0); });

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
    if (uiState() === "open") open({ focus: false }); // reopened as the visitor left it
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
  var teaserLive = el("p", { class: "sv-sr-only", "aria-live": "polite" });
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
    ["pointermove", "pointerdown", "scroll", "touchstart", "wheel"].forEach(function (type) {
      window.addEventListener(type, activity, { passive: true, capture: true });
    });
    window.addEventListener("keydown", function () { lastActivity = lastKey = Date.now(); }, { capture: true });
    document.addEventListener("mouseout", function (event) {
      if (!event.relatedTarget && event.clientY <= 0) proactiveEvent("exit_intent");
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") proactiveEvent("tab_return");
    });
    setInterval(function () { proactiveEvent("tick"); }, TICK_MS);
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
      identify: function (customer) { return start().then(function (c) { c.identify(customer); }); },
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
    }),
    writable: false,
    configurable: false,
    enumerable: true,
  });
})();
