// Types of the script-tag widget's global, `window.sottovoce` (www/sottovoce.js), for pages
// written in TypeScript. Shipped in the npm package as `sottovoce/global`:
//
//   /// <reference types="sottovoce/global" />
//   window.sottovoce?.on("message", (m) => console.log(m.from, m.text));
//
// The payloads are the ones the widget emits; the shapes it passes through from the core
// (quick replies, links, entities, the ranking, a turn) are the npm package's own types.
// Checked by `tsc --strict` against examples/script-tag/usage.ts (make test-examples).
import type { Customer, Link, QuickReply, Turn } from "sottovoce";

export {};

declare global {
  interface Window {
    /** The widget's one frozen global; absent until sottovoce.js has run (it is loaded `defer`). */
    readonly sottovoce?: SottovoceWidget;
  }

  /** Who wrote a message in the chat log. */
  type SottovoceAuthor = "visitor" | "bot" | "agent";

  /** Every event `window.sottovoce.on` accepts, with its payload. */
  interface SottovoceEvents {
    /** A message joined the log: the visitor's, the bot's or a person's (after an escalation). */
    message: {
      from: SottovoceAuthor;
      text: string;
      /** The definition's message id for a bot message; the server's id for an agent's; null for the visitor's. */
      id: string | null;
      quickReplies: QuickReply[];
      links: Link[];
    };
    /** What the bot made of a visitor's message: its text and the turn's understanding. */
    intent: { text: string } & Pick<Turn, "intent" | "confidence" | "ranking" | "entities" | "locale" | "handoff">;
    /** The bot loaded and greeted. */
    ready: {
      botName: string;
      /** "memory" when localStorage is blocked or full: the conversation is not kept. */
      storage: "local" | "memory";
      /** A compiled model, or definition JSON trained in the page. */
      source: "model" | "definition";
      locale: string;
      /** Milliseconds from the start of loading to the greeting. */
      loadMs: number;
    };
    open: Record<string, never>;
    close: Record<string, never>;
    /** The bot could not start (the model could not be fetched or read). */
    error: { message: string };
    /** The visitor chose "Forget me"; `serverHasCopy` when an escalation already sent the transcript. */
    forget: { serverHasCopy: boolean };
    /** Product cards shown for a request (with `related`, for what goes with that product), or a comparison table (`compare`, and `products` empty). */
    products:
      | { request: string; related: string | null; products: string[] }
      | { compare: string[]; products: [] };
    /** The visitor pressed Send under a finished form's fields (a sales lead, a newsletter sign-up, a back-in-stock alert): the site may act on it; the escalation server, if any, gets it too. */
    submission: { kind: "lead" | "newsletter" | "back_in_stock"; fields: Record<string, string> };
    /** A proactive teaser appeared beside the launcher (`preview`: shown by ?sottovoce-trigger=ID). */
    "proactive:shown": { trigger: string; text: string; preview: boolean };
    /** The visitor opened the chat from a teaser. */
    "proactive:clicked": { trigger: string };
    /** The visitor dismissed a teaser; `noTips` when they chose no tips at all. */
    "proactive:dismissed": { trigger: string; noTips: boolean };
  }

  /** What a visitor's message to a person (after an escalation) resolves to: no bot answer,
   * so no products, form, privacy request or recommendation either (`messages`, `ranking` and
   * `entities` are empty). */
  type SottovoceToAgent = Pick<Turn, "messages" | "ranking" | "entities"> & {
    intent: null;
    confidence: null;
    locale: null;
    handoff: false;
    toAgent: true;
  };

  /** Where escalations go and what may leave the browser with them. */
  interface SottovoceEscalationOptions {
    /** The escalation server's base URL (http or https); null turns escalation off. */
    url?: string | URL | null;
    /** Profile fields the owner allows (`name`, `locale`, `visits`, `first_seen_ms`, `last_seen_ms`, `customer_id`). */
    profileFields?: string[];
    /** Extra patterns (regex-lite syntax) to redact; card numbers always are. */
    redact?: string[];
  }

  /** What a product page, the cart and checkout tell the bot (kept on the device only). */
  type SottovoceTrackEvent = "product_view" | "add_to_cart" | "checkout_started" | "purchase";

  /** `window.sottovoce`: the widget's script-tag API. */
  interface SottovoceWidget {
    /** Opens the chat panel (and starts loading the bot if it has not). */
    open(): void;
    /** Closes the panel; focus returns to the launcher if it was inside. */
    close(): void;
    /** Sends `text` as the visitor; resolves to the bot's turn, or undefined for blank text. */
    send(text: string): Promise<Turn | SottovoceToAgent | undefined>;
    /** Starts the conversation over; resolves once the new greeting is shown. */
    reset(): Promise<void>;
    /** Subscribes to an event; returns the function that unsubscribes. */
    on<K extends keyof SottovoceEvents>(event: K, handler: (detail: SottovoceEvents[K]) => void): () => void;
    /** The site's logged-in customer and their orders; kept on this device only. */
    identify(customer: Customer): Promise<void>;
    /** Something the visitor did on the site; resolves to whether the bot kept it. */
    track(event: SottovoceTrackEvent, props: { name: string }): Promise<boolean>;
    /** Sets or changes the escalation server before the visitor asks for a person. */
    configureEscalation(options: SottovoceEscalationOptions): void;
    /** The chat's locale, as if chosen in its language menu; resolves to the locale set, rejects for one the bot lacks. */
    setLocale(code: string): Promise<string>;
    /** Shows the launcher. */
    show(): void;
    /** Hides the launcher (the page opens the chat itself). */
    hide(): void;
    /** Removes the widget from the page (DOM, listeners, streams); what it stored stays. */
    destroy(): void;
  }
}
