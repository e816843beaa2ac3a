// The Dynamic Registration frame: when the tool posts {subject: "org.imsglobal.lti.close"},
// close the frame and go back to the console, as Moodle closes its registration dialog.
// Kept in a file (no inline script) so the page works under a strict Content-Security-Policy.
(function () {
  "use strict";
  var frame = document.getElementById("contentframe");
  var status = document.getElementById("registration-status");
  var toolOrigin = frame.getAttribute("data-tool-origin");

  window.addEventListener("message", function (event) {
    if (event.origin !== toolOrigin || event.source !== frame.contentWindow) { return; }
    if (!event.data || event.data.subject !== "org.imsglobal.lti.close") { return; }
    frame.remove();
    status.textContent = "The tool closed the registration. Back to the console…";
    window.setTimeout(function () { window.location.assign("/"); }, 800);
  });
})();
