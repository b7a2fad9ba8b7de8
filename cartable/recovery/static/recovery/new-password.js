// Live checklist for a new password: the same rules the server applies (accounts/policy.py),
// read from the data- attributes of [data-password-policy], shown under the first field and
// updated as the person types. The server stays the judge (it also refuses names, birth dates
// and common passwords, which are not checked here).
// Progressive: without JavaScript the rule is still written under the field. Loaded as a static
// file: the Content-Security-Policy allows no inline script.
// Accessibility: each rule says "Respecté :" or "Pas encore :" in words (not only a colour or a
// sign); the list is linked to the field (aria-describedby), and one short summary is announced
// politely a moment after typing stops, rather than at every key.
(function () {
  "use strict";

  var KINDS = [[/[a-z]/, 26], [/[A-Z]/, 26], [/[0-9]/, 10], [/[^a-zA-Z0-9]/, 33]];

  function entropyBits(password) {
    var alphabet = 0;
    KINDS.forEach(function (kind) { if (kind[0].test(password)) { alphabet += kind[1]; } });
    return alphabet ? password.length * Math.log2(alphabet) : 0;
  }

  document.querySelectorAll("[data-password-policy]").forEach(function (box) {
    var inputs = box.querySelectorAll("input[type=password]");
    if (inputs.length < 2) { return; }
    var first = inputs[0];
    var second = inputs[1];
    var data = box.dataset;
    var min = parseInt(data.minLength, 10) || 0;
    var max = parseInt(data.maxLength, 10) || 0;
    var minEntropy = parseFloat(data.minEntropy) || 0;

    var rules = [{ text: data.msgMin, test: function (p) { return p.length >= min; } }];
    if (max) { rules.push({ text: data.msgMax, test: function (p) { return p.length > 0 && p.length <= max; } }); }
    if (data.lettersDigits) {
      rules.push({ text: data.msgLettersDigits, test: function (p) { return /[A-Za-z]/.test(p) && /[0-9]/.test(p); } });
    }
    if (minEntropy) { rules.push({ text: data.msgEntropy, test: function (p) { return entropyBits(p) >= minEntropy; } }); }
    rules.push({ text: data.msgMatch, test: function (p, q) { return p.length > 0 && p === q; } });

    var list = document.createElement("ul");
    list.className = "password-checks";
    list.id = first.id + "_checks";
    var items = rules.map(function (rule) {
      var item = document.createElement("li");
      var state = document.createElement("span");
      state.className = "check-state";
      item.appendChild(state);
      item.appendChild(document.createTextNode(" " + rule.text));
      list.appendChild(item);
      return { rule: rule, item: item, state: state };
    });
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    first.closest(".field").appendChild(list);
    box.appendChild(live);
    var described = (first.getAttribute("aria-describedby") || "").trim();
    first.setAttribute("aria-describedby", (described ? described + " " : "") + list.id);

    var timer = null;
    function update() {
      var ok = 0;
      items.forEach(function (entry) {
        var passed = entry.rule.test(first.value, second.value);
        if (passed) { ok += 1; }
        entry.item.className = passed ? "check-ok" : "check-ko";
        entry.state.textContent = passed ? data.msgOk : data.msgKo;
      });
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        live.textContent = data.msgSummary.replace("%(ok)s", ok).replace("%(total)s", items.length);
      }, 900);
    }
    first.addEventListener("input", update);
    second.addEventListener("input", update);
    update();
    live.textContent = "";
    window.clearTimeout(timer);
  });
})();
