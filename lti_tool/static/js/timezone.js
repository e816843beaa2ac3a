// Mentoring pages: report the browser's time zone so that times are shown in it.
// Forms get it in their hidden "tz" field. A page rendered in another zone is loaded once
// more with ?tz=<zone>; the tool then remembers the zone for the person. Without this
// script pages show the zone of the launch's locale (or the tool's default) and say which.
// This script is deferred, so a person can already have chosen or typed something when it
// runs; loading the page again would silently throw that away. Such a page is left exactly
// as it was rendered (its times and its "tz" fields in the zone it names), and the next page
// reports the zone.
(function () {
  "use strict";

  var zone = null;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    zone = null;
  }

  function focusMessage() {
    var message = document.querySelector("[data-focus-on-load]");
    if (message) { message.focus(); }
  }

  // The option a one-choice drop-down showed when rendered: the last one marked selected,
  // else (a one-line drop-down) the first one that can be chosen.
  function renderedIndex(select) {
    var index = -1;
    Array.prototype.forEach.call(select.options, function (option, i) {
      if (option.defaultSelected) { index = i; }
    });
    if (index < 0 && select.size <= 1) {
      index = Array.prototype.findIndex.call(select.options, function (option) {
        return !option.disabled;
      });
    }
    return index;
  }

  // Whether a field on the page now differs from what the server rendered.
  function changedByPerson() {
    return Array.prototype.some.call(document.querySelectorAll("input, select, textarea"),
      function (field) {
        if (field.type === "checkbox" || field.type === "radio") {
          return field.checked !== field.defaultChecked;
        }
        if (field.tagName === "SELECT" && field.multiple) {
          return Array.prototype.some.call(field.options, function (option) {
            return option.selected !== option.defaultSelected;
          });
        }
        if (field.tagName === "SELECT") {
          return field.selectedIndex !== renderedIndex(field);
        }
        return field.type !== "hidden" && field.value !== field.defaultValue;
      });
  }

  function report() {
    if (!zone || changedByPerson()) { return; }
    document.querySelectorAll("input[name=tz]").forEach(function (input) {
      input.value = zone;
    });
    var shown = document.querySelector("[data-timezone]");
    if (!shown || shown.dataset.timezone === zone) { return; }
    var url = new URL(window.location.href);
    // Reported once already: the tool does not know this zone, so stay with its choice.
    if (url.searchParams.has("tz")) { return; }
    url.searchParams.set("tz", zone);
    window.location.replace(url.toString());
  }

  document.addEventListener("DOMContentLoaded", function () {
    report();
    focusMessage();
  });
}());
