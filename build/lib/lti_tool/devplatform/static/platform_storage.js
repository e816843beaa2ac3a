// The platform's side of LTI Platform Storage (1EdTech "LTI Client Side postMessages" and
// "LTI Platform Storage"), as Canvas offers it: the page around the content frame answers
// lti.capabilities, lti.put_data and lti.get_data from the registered tool, and keeps the
// values in this tab's sessionStorage, apart for each tool origin. Logins carry
// lti_storage_target=_parent, so the tool posts to this page (window.parent).
(function () {
  "use strict";

  var toolOrigin = document.currentScript.dataset.toolOrigin;
  var frame = document.getElementById("contentframe");
  var SUBJECTS = ["lti.capabilities", "lti.put_data", "lti.get_data"];

  function storageKey(origin, key) {
    return "lti-storage " + origin + " " + key;
  }

  function answer(message, origin) {
    var subject = message.subject.replace(/^org\.imsglobal\./, "");
    var reply = { subject: message.subject + ".response", message_id: message.message_id };
    if (SUBJECTS.indexOf(subject) === -1) {
      reply.error = { code: "unsupported_subject", message: "Unknown subject " + message.subject };
    } else if (subject === "lti.capabilities") {
      reply.supported_messages = SUBJECTS.map(function (s) { return { subject: s }; });
    } else if (typeof message.key !== "string" || !message.key) {
      reply.error = { code: "bad_request", message: "A key is required" };
    } else if (subject === "lti.put_data") {
      window.sessionStorage.setItem(storageKey(origin, message.key), JSON.stringify(message.value));
      reply.key = message.key;
      reply.value = message.value;
    } else {
      var stored = window.sessionStorage.getItem(storageKey(origin, message.key));
      reply.key = message.key;
      if (stored === null) {
        reply.error = { code: "bad_request", message: "Nothing is stored under this key" };
      } else {
        reply.value = JSON.parse(stored);
      }
    }
    return reply;
  }

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!message || typeof message !== "object" || typeof message.subject !== "string" ||
        message.subject.indexOf("lti.") === -1 || /\.response$/.test(message.subject)) {
      return;
    }
    // Only the registered tool, in this page's content frame, may use the storage. Anything
    // else gets no answer: an answer would tell a stranger that the platform listens.
    if (event.origin !== toolOrigin || !frame || event.source !== frame.contentWindow) {
      return;
    }
    event.source.postMessage(answer(message, event.origin), event.origin);
  });
})();
