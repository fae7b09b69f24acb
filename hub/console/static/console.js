// The console's only script: a form shows it is working while the bot thinks, and the
// newest playground turn is scrolled into view. Every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () { form.classList.add("busy"); }, 0);
    });
  });
  var composer = document.querySelector("#composer textarea");
  if (composer) {
    composer.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        composer.form.querySelector("button[value='0']").click();
      }
    });
  }
  var last = document.getElementById("last");
  if (last) { last.scrollIntoView({ block: "nearest" }); }
});
