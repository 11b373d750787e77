// Calendar feed form: shows only the target list of the kind of feed chosen. The form works
// without this file: every list shows, each with a hint naming the kind it is for.
(function () {
  "use strict";
  var scope = document.getElementById("scope");
  var targets = document.querySelectorAll("[data-feed-target]");
  if (!scope || !targets.length) { return; }

  function showChosen() {
    for (var i = 0; i < targets.length; i++) {
      targets[i].hidden = targets[i].getAttribute("data-feed-target") !== scope.value;
    }
  }

  scope.addEventListener("change", showChosen);
  showChosen();
}());
