// Canvas's post_message_forwarding frame (ui/features/post_message_forwarding), served from
// the OIDC host: a tool's message is passed up to the course page with the tool's origin and
// window number (sourceToolInfo); the page's answer comes back here and goes to that window,
// so the tool hears it from the OIDC host's origin, as Platform Storage requires.
(function () {
  "use strict";

  var parentOrigin = document.currentScript.dataset.parentOrigin;
  var windows = [];

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!message || typeof message !== "object") { return; }
    if (event.origin === parentOrigin && event.source === window.parent) {
      var info = message.sourceToolInfo;
      if (!info || !windows[info.windowId]) { return; }
      var answer = Object.assign({}, message);
      delete answer.sourceToolInfo;
      windows[info.windowId].postMessage(answer, info.origin);
      return;
    }
    var id = windows.indexOf(event.source);
    if (id === -1) {
      windows.push(event.source);
      id = windows.length - 1;
    }
    window.parent.postMessage(
      Object.assign({}, message, { sourceToolInfo: { origin: event.origin, windowId: id } }),
      parentOrigin
    );
  });
})();
