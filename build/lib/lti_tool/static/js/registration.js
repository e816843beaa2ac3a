// Dynamic Registration pages: tell the LMS that the registration window may close.
// Moodle opens the tool in a new window (window.opener) or a frame (window.parent), Canvas in
// a frame; both listen for {subject: "org.imsglobal.lti.close"} (LTI Dynamic Registration 1.0).
// The message carries no secret, so any origin may receive it.
(function () {
  "use strict";

  function closeRegistration() {
    var lms = window.opener || window.parent;
    if (lms && lms !== window) {
      lms.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
    } else {
      window.close();
    }
  }

  document.querySelectorAll("[data-lti-close]").forEach(function (button) {
    button.addEventListener("click", closeRegistration);
  });
})();
