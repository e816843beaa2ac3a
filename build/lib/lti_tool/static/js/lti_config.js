// The registration page: copy buttons, and the `flask platforms add` command filled in with
// the values Moodle shows. Without this script the page still shows every value to copy.
(function () {
  "use strict";

  var PLACEHOLDERS = {
    issuer: "<Platform ID>",
    client_id: "<Client ID>",
    deployment: "<Deployment ID>"
  };

  function shellQuote(value) {
    if (/^[A-Za-z0-9_.:\/@%+=-]+$/.test(value)) { return value; }
    return "'" + value.replace(/'/g, "'\\''") + "'";
  }

  function setUpCopyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) { return; }
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = button.dataset.copied || "Copied";
          window.setTimeout(function () { button.textContent = label; }, 2000);
        }, function () {
          button.textContent = button.dataset.copyByHand || "Select and copy by hand";
        });
      });
    });
  }

  function setUpCommandBuilder() {
    var form = document.querySelector("[data-command-builder]");
    var output = document.getElementById("platforms-add");
    if (!form || !output) { return; }
    var template = output.getAttribute("data-template");
    function render() {
      var command = template;
      Object.keys(PLACEHOLDERS).forEach(function (name) {
        var value = form.elements[name].value.trim();
        if (name === "issuer") { value = value.replace(/\/+$/, ""); }
        command = command.split(PLACEHOLDERS[name]).join(value ? shellQuote(value) : PLACEHOLDERS[name]);
      });
      output.textContent = command;
    }
    form.addEventListener("input", render);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
  }

  setUpCopyButtons();
  setUpCommandBuilder();
})();
