// Show/hide toggle for password fields. Progressive: the button is added only when this script
// runs, so without JavaScript the field is a plain password field and no dead button is shown.
// Loaded as a static file: the Content-Security-Policy allows no inline script.
// The button's name is its visible text ("Afficher"/"Masquer") plus a hidden " le mot de passe",
// so what a screen reader says matches what a voice-control user reads on screen.
(function () {
  "use strict";
  document.querySelectorAll("[data-password-toggle]").forEach(function (wrapper) {
    var input = wrapper.querySelector("input");
    if (!input) { return; }
    var button = document.createElement("button");
    var verb = document.createElement("span");
    var object = document.createElement("span");
    button.type = "button";
    button.className = "button button-secondary";
    button.setAttribute("aria-controls", input.id);
    object.className = "visually-hidden";
    object.textContent = " " + wrapper.dataset.toggleObject;
    verb.textContent = wrapper.dataset.showLabel;
    button.appendChild(verb);
    button.appendChild(object);
    button.addEventListener("click", function () {
      var showing = input.type === "text";
      input.type = showing ? "password" : "text";
      verb.textContent = showing ? wrapper.dataset.showLabel : wrapper.dataset.hideLabel;
      input.focus();
    });
    wrapper.appendChild(button);
    // Never leave a password readable when the form is sent (the browser may keep the page).
    if (input.form) {
      input.form.addEventListener("submit", function () { input.type = "password"; });
    }
  });
})();
