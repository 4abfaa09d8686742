// Copy buttons: <button data-copy="ID"> copies the value of the field with that id.
// Without the Clipboard API (or without permission) the field is selected and
// document.execCommand("copy") is tried; if that fails too the field stays selected and a
// message says to copy it by hand. Buttons stay hidden when this script does not run.
(function () {
  "use strict";
  function announce(button, text) {
    var status = document.getElementById(button.getAttribute("data-copy") + "-status");
    if (status) { status.textContent = text; }
  }
  function fallback(field) {
    field.focus();
    field.select();
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }
  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var done = button.getAttribute("data-copied");
    var failed = button.getAttribute("data-failed");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { announce(button, done); },
        function () { announce(button, fallback(field) ? done : failed); }
      );
    } else {
      announce(button, fallback(field) ? done : failed);
    }
  }
  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
  }
})();
