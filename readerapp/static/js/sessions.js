// Log-a-session enhancement. The form works without this file (plain checkboxes, the reason
// always shown, the catalogue as a datalist); this only saves taps: picking from the catalogue
// fills the author and kind, ticks raise the counts, the reason shows only when cancelled, and
// the page goes to the errors or the question it asks.
(function () {
  "use strict";
  var form = document.querySelector(".log-form");
  if (!form) { return; }
  var list = document.getElementById("catalogue-titles");
  var options = list ? Array.prototype.slice.call(list.options) : [];
  var participants = document.getElementById("participants");
  var firstTime = document.getElementById("first_time");
  var SUGGESTIONS = 5;
  var SEARCH_FROM = 15;  // a roster longer than this gets a search box

  // --- errors and questions: go to them ----------------------------------------------------
  var alertBox = document.getElementById("confirm-panel") || document.getElementById("error-summary");
  if (alertBox) {
    alertBox.scrollIntoView({ block: "start" });
    alertBox.focus({ preventScroll: true });
  }

  // --- outcome: the reason only when cancelled ---------------------------------------------
  var reason = form.querySelector(".cancel-reason");
  var statusInputs = form.querySelectorAll("input[name=status]");
  function chosenStatus() {
    var checked = form.querySelector("input[name=status]:checked");
    return checked ? checked.value : "";
  }
  function showReason() {
    if (reason) { reason.hidden = chosenStatus() !== "cancelled"; }
  }
  statusInputs.forEach(function (input) {
    input.addEventListener("change", function () {
      showReason();
      // Headcount-only groups go straight on to the count.
      if (input.value === "delivered" && participants && !form.querySelector("[data-register]")
          && participants.value === "") {
        participants.focus();
      }
    });
  });
  showReason();

  // --- the register: counter, counts at least the ticks, next free code, search -------------
  var register = form.querySelector("[data-register]");
  if (register) {
    var ticks = register.querySelectorAll("input[name=present]");
    var newCodes = document.getElementById("new_codes");
    var counter = register.querySelector(".register-count");
    var newCount = function () {
      return newCodes ? newCodes.value.split(/[\s,;]+/).filter(Boolean).length : 0;
    };
    var raise = function (input, atLeast) {
      if (!input) { return; }
      var now = parseInt(input.value, 10);
      if (isNaN(now) || now < atLeast) { input.value = String(atLeast); }
    };
    var update = function () {
      var ticked = register.querySelectorAll("input[name=present]:checked").length;
      var added = newCount();
      if (counter) { counter.textContent = "(" + (ticked + added) + " ticked)"; }
      if (ticked + added > 0) { raise(participants, ticked + added); }
      if (added > 0) { raise(firstTime, added); }
    };
    ticks.forEach(function (input) { input.addEventListener("change", update); });
    if (newCodes) {
      newCodes.addEventListener("input", update);
      var next = newCodes.getAttribute("data-next-code");
      if (next) {
        var add = document.createElement("button");
        add.type = "button";
        add.className = "button button-secondary add-person";
        add.textContent = "Add a new person: " + next;
        add.addEventListener("click", function () {
          var codes = newCodes.value.split(/[\s,;]+/).filter(Boolean);
          var code = next;
          // Each tap adds the next code of the series.
          var match = /^(.*?)(\d+)$/.exec(next);
          if (match) {
            var n = parseInt(match[2], 10) + codes.length;
            var digits = String(n);
            while (digits.length < match[2].length) { digits = "0" + digits; }
            code = match[1] + digits;
          }
          codes.push(code);
          newCodes.value = codes.join(" ");
          update();
        });
        newCodes.parentNode.appendChild(add);
      }
    }
    if (ticks.length > SEARCH_FROM) {
      var search = document.createElement("input");
      search.type = "search";
      search.className = "register-search";
      search.placeholder = "Find a code";
      search.setAttribute("aria-label", "Find a code");
      search.addEventListener("input", function () {
        var q = search.value.trim().toUpperCase();
        ticks.forEach(function (input) {
          // The whole row: its code, and its name when names were asked for.
          var row = input.closest("li");
          row.hidden = q !== "" && row.textContent.toUpperCase().indexOf(q) === -1;
        });
      });
      var tickList = document.getElementById("present");
      tickList.parentNode.insertBefore(search, tickList);
    }
    update();
  }

  // --- the catalogue: suggestions that fill title, author and kind --------------------------
  if (!list) { return; }
  function optionFor(title) {
    for (var i = 0; i < options.length; i++) {
      if (options[i].value === title) { return options[i]; }
    }
    return null;
  }
  function rowOf(input) { return input.closest(".material-row"); }
  function warnRead(row, option) {
    var note = row.querySelector(".already-read-live");
    var read = option && option.getAttribute("data-read");
    if (read) {
      if (!note) {
        note = document.createElement("p");
        note.className = "warning already-read-live";
        note.setAttribute("role", "status");
        row.querySelector(".material-title").appendChild(note);
      }
      note.textContent = "This group has already read this (last on " + read + ").";
    } else if (note) {
      note.remove();
    }
  }
  function fill(row, option) {
    row.querySelector(".material-title input").value = option.value;
    row.querySelector(".material-author input").value = option.getAttribute("data-author") || "";
    var kind = option.getAttribute("data-kind");
    var select = row.querySelector(".material-kind select");
    if (kind && select) { select.value = kind; }
    warnRead(row, option);
  }
  var titles = Array.prototype.slice.call(form.querySelectorAll(".material-title input"));
  titles.forEach(function (input, index) {
    var row = rowOf(input);
    var box = document.createElement("ul");
    box.className = "suggestions";
    box.hidden = true;
    input.parentNode.appendChild(box);
    // Our own list replaces the browser's datalist, which cannot be tapped reliably on phones.
    input.removeAttribute("list");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      box.innerHTML = "";
      if (q.length < 2) { box.hidden = true; return; }
      var shown = 0;
      for (var i = 0; i < options.length && shown < SUGGESTIONS; i++) {
        var option = options[i];
        var author = option.getAttribute("data-author") || "";
        if ((option.value + " " + author).toLowerCase().indexOf(q) === -1) { continue; }
        var item = document.createElement("li");
        var pick = document.createElement("button");
        pick.type = "button";
        pick.textContent = option.value;
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = author + (option.getAttribute("data-read") ? " · read " + option.getAttribute("data-read") : "");
        pick.appendChild(meta);
        pick.addEventListener("click", (function (chosen) {
          return function () {
            fill(row, chosen);
            box.hidden = true;
            box.innerHTML = "";
            // On to the next text: one tap fewer.
            if (titles[index + 1] && !titles[index + 1].value) { titles[index + 1].focus(); }
          };
        })(option));
        item.appendChild(pick);
        box.appendChild(item);
        shown++;
      }
      box.hidden = shown === 0;
    });
    input.addEventListener("change", function () {
      warnRead(row, optionFor(input.value.trim()));
    });
  });
})();
