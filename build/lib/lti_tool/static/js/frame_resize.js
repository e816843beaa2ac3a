// lti.frameResize: tell the LMS page around the tool's frame how tall the content is, so
// that Canvas (and Brightspace, Sakai) grow the frame instead of showing a second
// scrollbar. Sent on load and whenever the content's height changes; platforms that do not
// listen (Moodle sizes its frame to the window) ignore it. Kept in a file: the
// Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  if (window.parent === window || !window.ResizeObserver) { return; }
  // The message carries only a height, so "*" would leak nothing; still, name the page
  // that embeds the tool when the browser says which it is (Chromium and Safari do).
  var ancestors = window.location.ancestorOrigins;
  var target = ancestors && ancestors.length ? ancestors[0] : "*";
  var sent = 0;

  function contentHeight() {
    // The body's own box, not the document's scroll height: that never shrinks below the
    // frame's height, so a frame that grew could never become shorter again.
    var body = document.body;
    var style = window.getComputedStyle(body);
    return Math.ceil(body.getBoundingClientRect().height +
                     parseFloat(style.marginTop) + parseFloat(style.marginBottom));
  }

  function report() {
    var height = contentHeight();
    if (height > 0 && height !== sent) {
      sent = height;
      window.parent.postMessage({ subject: "lti.frameResize", height: height }, target);
    }
  }

  new ResizeObserver(report).observe(document.body);
  report();
})();
