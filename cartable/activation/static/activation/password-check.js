// Live feedback on a new password while it is typed: length, kinds of characters and the match
// of the two fields, mirroring the policy given in the form's data-* attributes. A courtesy only:
// the server checks the password again and its answer is the one that counts.
// Loaded as a static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var form = document.querySelector("form[data-password-check]");
  if (!form) { return; }
  var first = form.querySelector("#id_mot_de_passe1");
  var second = form.querySelector("#id_mot_de_passe2");
  var list = document.getElementById("password-checks");
  var status = document.getElementById("password-status");
  if (!first || !second || !list || !status) { return; }

  var min = parseInt(form.dataset.min, 10) || 0;
  var max = parseInt(form.dataset.max, 10) || 0;
  var lettersDigits = form.dataset.lettersDigits === "1";
  var minBits = parseFloat(form.dataset.minBits) || 0;

  // Entropy as the CNIL computes it (cartable/accounts/policy.py): length × log2(alphabet).
  function bits(value) {
    var alphabet = 0;
    if (/[a-z]/.test(value)) { alphabet += 26; }
    if (/[A-Z]/.test(value)) { alphabet += 26; }
    if (/[0-9]/.test(value)) { alphabet += 10; }
    if (/[^a-zA-Z0-9]/.test(value)) { alphabet += 33; }
    return alphabet ? value.length * Math.log2(alphabet) : 0;
  }

  var rules = {
    "length": function (value) { return value.length >= min && (!max || value.length <= max); },
    "letters-digits": function (value) { return !lettersDigits || (/[A-Za-z]/.test(value) && /[0-9]/.test(value)); },
    "strength": function (value) { return !minBits || bits(value) >= minBits; },
    "match": function (value) { return value.length > 0 && value === second.value; }
  };

  var timer = null;
  function update() {
    var value = first.value;
    var items = list.querySelectorAll("li[data-check]");
    var passed = 0;
    items.forEach(function (item) {
      var rule = rules[item.dataset.check];
      var ok = rule ? rule(value) : true;
      var touched = value.length > 0 || second.value.length > 0;
      item.classList.toggle("ok", touched && ok);
      item.classList.toggle("ko", touched && !ok);
      var state = item.querySelector("[data-state]");
      if (state) { state.textContent = touched ? " (" + (ok ? status.dataset.ok : status.dataset.ko) + ")" : ""; }
      if (ok) { passed += 1; }
    });
    // Announce a short summary once typing pauses, not at every keystroke.
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      status.textContent = status.dataset.summary
        .replace("%(ok)s", String(passed))
        .replace("%(total)s", String(items.length));
    }, 900);
  }

  list.hidden = false;
  first.addEventListener("input", update);
  second.addEventListener("input", update);
})();
