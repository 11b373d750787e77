// Copy buttons: a button with data-copy="<input id>" copies that input's value. Without this
// file the button stays hidden and the read-only field can be selected and copied by hand.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) {
    var button = buttons[i];
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { continue; }
    button.hidden = false;
    button.addEventListener("click", copier(input, button));
  }

  function copier(input, button) {
    return function () {
      var status = button.parentNode.querySelector(".copy-status");
      function say(text) { if (status) { status.textContent = text; } }
      input.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(
          function () { say("Copied."); },
          function () { say("Press Ctrl+C (or Cmd+C) to copy the selected address."); }
        );
      } else {
        say(document.execCommand && document.execCommand("copy")
          ? "Copied." : "Press Ctrl+C (or Cmd+C) to copy the selected address.");
      }
    };
  }
})();
