// The launch answers with the landing page itself (no redirect), so the address bar still
// shows the launch URL, and reloading would post the spent launch again. Put the page's own
// address there instead: a reload or a bookmark then asks for this page as any link does.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="lti-landing-url"]');
  if (meta && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", meta.getAttribute("content"));
  }
})();
