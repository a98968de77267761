// The demo shop's cart: kept in this browser's localStorage (the shop's own key, not the chat's),
// counted in the header, and reported to the assistant with sottovoce.track(): add_to_cart on the
// product cards, checkout_started and purchase on checkout.html (a purchase empties the cart). The
// page also listens to the assistant's proactive events, as a site would to learn what became of
// a teaser (shown, clicked, dismissed): here they are only kept in window.cumbreOutcomes.
(function () {
  "use strict";
  var KEY = "cumbre:cart";
  var sv = window.sottovoce;

  function items() {
    try { return JSON.parse(window.localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }

  function save(list) {
    try { window.localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* storage blocked: a cart for this page only */ }
    document.querySelectorAll(".cart-count").forEach(function (n) { n.textContent = String(list.length); });
  }

  function say(text) {
    var status = document.getElementById("cart-status");
    if (status) status.textContent = text;
  }

  window.cumbreOutcomes = [];
  if (sv) {
    ["proactive:shown", "proactive:clicked", "proactive:dismissed"].forEach(function (name) {
      sv.on(name, function (detail) { window.cumbreOutcomes.push(name + " " + detail.trigger); });
    });
  }

  document.querySelectorAll("button[data-add-to-cart]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.getAttribute("data-add-to-cart");
      var list = items();
      list.push({ name: name, price: Number(button.getAttribute("data-price")) || 0 });
      save(list);
      say(name + " was added to your cart.");
      if (sv) sv.track("add_to_cart", { name: name });
    });
  });

  var checkout = document.getElementById("checkout");
  if (checkout) {
    var list = items();
    var lines = document.getElementById("checkout-items");
    var total = 0;
    list.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.name + " · $" + item.price;
      lines.appendChild(li);
      total += item.price;
    });
    document.getElementById("checkout-total").textContent = list.length ? "$" + total : "Your cart is empty.";
    var place = document.getElementById("place-order");
    place.disabled = !list.length;
    if (list.length && sv) sv.track("checkout_started", { name: list[0].name });
    place.addEventListener("click", function () {
      var bought = items();
      save([]);
      lines.textContent = "";
      place.disabled = true;
      document.getElementById("checkout-total").textContent = "Thank you! Your order is on its way.";
      bought.forEach(function (item) { if (sv) sv.track("purchase", { name: item.name }); });
    });
  }
  save(items());
})();
