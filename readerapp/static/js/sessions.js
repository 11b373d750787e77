// Log-a-session enhancement. The form works without this file: it only warns at once when the
// group has read a chosen catalogue title before (the server warns again after saving).
(function () {
  "use strict";
  var list = document.getElementById("catalogue-titles");
  if (!list) { return; }

  function optionFor(title) {
    var options = list.options;
    for (var i = 0; i < options.length; i++) {
      if (options[i].value === title) { return options[i]; }
    }
    return null;
  }

  function update(input) {
    var row = input.closest(".material-row");
    if (!row) { return; }
    var note = row.querySelector(".already-read-live");
    var option = optionFor(input.value.trim());
    var read = option && option.getAttribute("data-read");
    if (read) {
      if (!note) {
        note = document.createElement("p");
        note.className = "warning already-read-live";
        note.setAttribute("role", "status");
        input.parentNode.appendChild(note);
      }
      note.textContent = "This group has already read this (last on " + read + ").";
    } else if (note) {
      note.remove();
    }
  }

  document.querySelectorAll(".material-title input").forEach(function (input) {
    input.addEventListener("change", function () { update(input); });
  });
})();
