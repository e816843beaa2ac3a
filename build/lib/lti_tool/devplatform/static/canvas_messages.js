// The course page's side of Canvas's postMessage API (ui/shared/lti/jquery/messages.ts):
// lti.capabilities, lti.put_data and lti.get_data (which arrive through the forwarding frame),
// and lti.frameResize (straight from the tool's frame, which then grows to the height asked).
// Every message gets "<subject>.response", or an error {code, message}.
(function () {
  "use strict";

  var script = document.currentScript;
  var toolOrigin = script.dataset.toolOrigin;
  var forwarderOrigin = script.dataset.forwarderOrigin;
  var frame = document.getElementById("tool_content");
  var forwarder = document.querySelector("iframe[name='post_message_forwarding']");
  var STORAGE_FRAME = "post_message_forwarding";
  var SUBJECTS = ["lti.capabilities", "lti.put_data", "lti.get_data", "lti.frameResize",
                  "lti.fetchWindowSize", "lti.scrollToTop"];
  // Canvas keeps at most this much per tool (ui/shared/lti/jquery/platform_storage.ts).
  var STORAGE_CHAR_LIMIT = 4096;

  function storageKey(origin, key) { return "lti|platform_storage|" + origin + "|" + key; }

  function storedChars(origin) {
    var prefix = storageKey(origin, "");
    var total = 0;
    for (var i = 0; i < window.localStorage.length; i++) {
      var name = window.localStorage.key(i);
      if (name.indexOf(prefix) === 0) {
        total += name.length - prefix.length + window.localStorage.getItem(name).length;
      }
    }
    return total;
  }

  function answer(message, origin) {
    var subject = message.subject;
    if (SUBJECTS.indexOf(subject) === -1) {
      return { error: { code: "unsupported_subject", message: "Unsupported subject " + subject } };
    }
    if (subject === "lti.capabilities") {
      return { supported_messages: SUBJECTS.map(function (s) {
        return (s === "lti.put_data" || s === "lti.get_data") ? { subject: s, frame: STORAGE_FRAME }
                                                               : { subject: s };
      }) };
    }
    if (subject === "lti.frameResize") {
      var height = Number(message.height);
      frame.style.height = (height > 0 ? height : 1) + "px";
      return {};
    }
    if (subject === "lti.fetchWindowSize") {
      var box = frame.getBoundingClientRect();
      return { height: frame.clientHeight, width: frame.clientWidth, footer: 0,
               offset: { top: box.top + window.scrollY, left: box.left + window.scrollX },
               scrollY: window.scrollY };
    }
    if (subject === "lti.scrollToTop") { window.scrollTo(0, 0); return {}; }
    if (!message.key) { return { error: { code: "bad_request", message: "Missing required 'key' field" } }; }
    if (!message.message_id) {
      return { error: { code: "bad_request", message: "Missing required 'message_id' field" } };
    }
    if (subject === "lti.put_data") {
      if (message.value) {
        if (storedChars(origin) + message.key.length + String(message.value).length > STORAGE_CHAR_LIMIT) {
          return { error: { code: "storage_exhaustion", message: "Reached byte limit for tool" } };
        }
        window.localStorage.setItem(storageKey(origin, message.key), message.value);
        return { key: message.key, value: message.value };
      }
      window.localStorage.removeItem(storageKey(origin, message.key));
      return { key: message.key };
    }
    return { key: message.key, value: window.localStorage.getItem(storageKey(origin, message.key)) };
  }

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!message || typeof message !== "object" || typeof message.subject !== "string" ||
        /\.response$/.test(message.subject)) { return; }
    var forwarded = forwarder && event.source === forwarder.contentWindow &&
                    event.origin === forwarderOrigin;
    var direct = frame && event.source === frame.contentWindow && event.origin === toolOrigin;
    var origin = forwarded ? (message.sourceToolInfo || {}).origin : event.origin;
    // Only the registered tool, straight or through the forwarding frame, gets an answer.
    if (!(forwarded || direct) || origin !== toolOrigin) { return; }
    var reply = answer(message, origin);
    reply.subject = message.subject + ".response";
    if (message.message_id) { reply.message_id = message.message_id; }
    if (forwarded) {
      reply.sourceToolInfo = message.sourceToolInfo;
      event.source.postMessage(reply, forwarderOrigin);
    } else {
      event.source.postMessage(reply, event.origin);
    }
  });
})();
