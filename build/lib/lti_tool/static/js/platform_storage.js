// The OIDC state without third-party cookies: 1EdTech "LTI Client Side postMessages" and
// "LTI Platform Storage". Data comes from the data-* attributes of #lti-storage (the
// Content-Security-Policy allows no inline script).
//
// data-step="login": ask whether the state cookie came back (it will then come back with the
// launch too) and, when the platform offers it, store the state in the platform's storage;
// go on to the platform's auth URL if either worked, else offer a new window.
// data-step="launch": the cookie did not come back; read the state from the platform's
// storage and post it, with the id_token, to the tool's storage launch endpoint.
(function () {
  "use strict";

  var root = document.getElementById("lti-storage");
  if (!root) { return; }
  var data = root.dataset;
  // Every message goes to, and every answer must come from, the platform's OIDC auth
  // endpoint origin: never "*", so no other page can read or answer them.
  var platformOrigin = data.platformOrigin;
  var storageKey = "lti_state_" + data.state;
  var CAPABILITIES_TIMEOUT_MS = 1000;
  var DATA_TIMEOUT_MS = 2000;

  function messageId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function frameNamed(name) {
    if (!name || window.parent === window) { return null; }
    if (name === "_parent") { return window.parent; }
    try {
      return window.parent.frames[name] || null;
    } catch (e) {
      return null;
    }
  }

  // Post one message and wait for its answer: same message_id, subject + ".response".
  function ask(frame, message, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var id = messageId();
      var timer = window.setTimeout(function () {
        window.removeEventListener("message", onMessage);
        reject(new Error(message.subject + ": no answer"));
      }, timeoutMs);
      function onMessage(event) {
        var reply = event.data;
        if (event.origin !== platformOrigin || !reply || typeof reply !== "object" ||
            reply.message_id !== id || reply.subject !== message.subject + ".response") {
          return;
        }
        window.clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        if (reply.error) {
          reject(new Error(message.subject + ": " + (reply.error.code || "error")));
        } else {
          resolve(reply);
        }
      }
      window.addEventListener("message", onMessage);
      message.message_id = id;
      frame.postMessage(message, platformOrigin);
    });
  }

  // The platform's storage, if it offers one: {frame, put, get} with the subjects it named.
  function platformStorage() {
    var target = frameNamed(data.storageTarget);
    if (!target) { return Promise.reject(new Error("no storage target")); }
    return ask(target, { subject: "lti.capabilities" }, CAPABILITIES_TIMEOUT_MS)
      .then(function (reply) {
        var supported = Array.isArray(reply.supported_messages) ? reply.supported_messages : [];
        function offered(subject) {
          return supported.filter(function (m) {
            return m && (m.subject === subject || m.subject === "org.imsglobal." + subject);
          })[0];
        }
        var put = offered("lti.put_data");
        var get = offered("lti.get_data");
        if (!put || !get) { throw new Error("platform storage not offered"); }
        // A platform may name the frame that keeps the data (Canvas: a sibling frame).
        return { frame: frameNamed(put.frame) || target, put: put.subject, get: get.subject };
      });
  }

  function showNewWindow() {
    document.getElementById("lti-storage-waiting").hidden = true;
    document.getElementById("new-window").hidden = false;
  }

  function stateCookieReturned() {
    return window.fetch(data.cookieCheckUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (body) { return body.cookie === true; }, function () { return false; });
  }

  function storeState() {
    return platformStorage()
      .then(function (storage) {
        return ask(storage.frame, { subject: storage.put, key: storageKey, value: data.state },
                   DATA_TIMEOUT_MS);
      })
      .then(function () { return true; }, function () { return false; });
  }

  function login() {
    Promise.all([stateCookieReturned(), storeState()]).then(function (results) {
      if (results[0] || results[1]) {
        window.location.replace(data.authUrl);
      } else {
        showNewWindow();
      }
    });
  }

  function launch() {
    var form = document.getElementById("lti-storage-launch");
    platformStorage()
      .then(function (storage) {
        return ask(storage.frame, { subject: storage.get, key: storageKey }, DATA_TIMEOUT_MS);
      })
      .then(function (reply) {
        if (reply.value !== data.state) { throw new Error("stored state differs"); }
        form.elements.lti_storage_value.value = reply.value;
        form.submit();
      })
      .catch(showNewWindow);
  }

  if (data.step === "login") { login(); } else if (data.step === "launch") { launch(); }
})();
