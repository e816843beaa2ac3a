// Mentoring pages: report the browser's time zone so that times are shown in it.
// Forms get it in their hidden "tz" field. A page rendered in another zone is loaded once
// more with ?tz=<zone>; the tool then remembers the zone for the person. Without this
// script pages show the zone of the launch's locale (or the tool's default) and say which.
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

  function report() {
    if (!zone) { return; }
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
