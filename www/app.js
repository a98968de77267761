// The bridge between a mobile app and the sottovoce widget in its WebView (README, "Mobile
// apps"). Native code calls window.sottovoceApp (Android: evaluateJavascript; iOS:
// evaluateJavaScript); the page reports to native code through the platform's message handler
// (iOS: webkit.messageHandlers.sottovoce; Android: an addJavascriptInterface object named
// SottovoceNative), and, for pages outside an app and for tests, as a `sottovoce-native` event.
"use strict";
(function () {
  var widget = window.sottovoce;

  // Web → native: a JSON message { type, ... }.
  function toNative(message) {
    try {
      if (window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.sottovoce) {
        window.webkit.messageHandlers.sottovoce.postMessage(message);
      } else if (window.SottovoceNative && typeof window.SottovoceNative.postMessage === "function") {
        window.SottovoceNative.postMessage(JSON.stringify(message));
      }
    } catch (e) { /* the native side went away: nothing to tell */ }
    window.dispatchEvent(new CustomEvent("sottovoce-native", { detail: message }));
  }

  // Native → web.
  var bridge = {
    // Opens the chat panel (the app's Help button).
    openChat: function () { widget.open(); },
    closeChat: function () { widget.close(); },
    // The signed-in customer: { id, name?, email?, locale?, user_hash } where user_hash is
    // HMAC-SHA256(identity secret, id) in hex, computed by the shop's backend, never in the app.
    // With it the customer's open escalation from another device shows here too.
    signIn: function (customer) {
      document.getElementById("account").textContent = customer.name || customer.id;
      return widget.identify(customer);
    },
  };
  Object.defineProperty(window, "sottovoceApp", { value: Object.freeze(bridge) });

  ["open", "close", "message", "error"].forEach(function (event) {
    widget.on(event, function (detail) {
      // Message text stays in the WebView; native code hears only that something happened
      // (to badge its Help button or bring the app forward).
      toNative({ type: event, from: detail && detail.from || null });
    });
  });

  // The example's stand-in for the native side: the Help tab calls the bridge as native code
  // would, and a signed-in customer can be passed in the fragment (#customer=ID&user_hash=HEX).
  document.getElementById("help").addEventListener("click", function () { bridge.openChat(); });
  var params = new URLSearchParams(location.hash.slice(1));
  if (params.get("customer") && params.get("user_hash")) {
    bridge.signIn({ id: params.get("customer"), name: params.get("name") || null, user_hash: params.get("user_hash") });
  }

  // Offline: the assistant answers on the device; say what waits.
  var banner = document.getElementById("offline");
  function showConnection() { banner.hidden = navigator.onLine; toNative({ type: navigator.onLine ? "online" : "offline" }); }
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  if (!navigator.onLine) showConnection();
})();
