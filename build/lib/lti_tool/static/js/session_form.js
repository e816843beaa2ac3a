// Session and slot forms: show the location field for an in-person session and the link
// field for an online one. Without this script both fields are shown.
(function () {
  "use strict";

  function setUp(choice) {
    var fields = choice.querySelectorAll("[data-mode-field]");
    function update() {
      var checked = choice.querySelector("input[name=mode]:checked");
      fields.forEach(function (field) {
        field.hidden = checked !== null && field.dataset.modeField !== checked.value;
      });
    }
    choice.querySelectorAll("input[name=mode]").forEach(function (input) {
      input.addEventListener("change", update);
    });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-mode-choice]").forEach(setUp);
  });
}());
