// The questionnaire pages: save every answer as it is given, time the page, and retry saves
// that fail while the network is down. Without this script the pages still work: the
// Back/Next/Submit form posts save the page's answers.
(function () {
  "use strict";

  var RETRY_FIRST_MS = 2000;
  var RETRY_MAX_MS = 60000;

  function setUpPrinting() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function focusMessage() {
    var message = document.querySelector("[data-focus-on-load]");
    if (message) { message.focus(); }
  }

  // Seconds the page has been visible; time in a background tab is not reading time.
  function PageClock() {
    var visibleSince = document.hidden ? null : performance.now();
    var banked = 0;
    document.addEventListener("visibilitychange", function () {
      if (document.hidden && visibleSince !== null) {
        banked += performance.now() - visibleSince;
        visibleSince = null;
      } else if (!document.hidden && visibleSince === null) {
        visibleSince = performance.now();
      }
    });
    // The seconds since the last call (each second is reported once).
    this.take = function () {
      var now = performance.now();
      var total = banked + (visibleSince === null ? 0 : now - visibleSince);
      banked = 0;
      if (visibleSince !== null) { visibleSince = now; }
      return Math.round(total / 100) / 10;
    };
  }

  function Autosave(form) {
    var url = form.dataset.autosaveUrl;
    var page = Number(form.dataset.page);
    var tokenField = form.querySelector("input[name=lt]");
    // Read at each call: launch_token.js renews the field while the page is open.
    function token() { return tokenField.value; }
    var status = document.querySelector("[data-save-status]");
    var countOut = document.querySelector("[data-answered-count]");
    // The page's language comes with the page: data-saving, data-saved, data-retrying,
    // data-refused and data-ended on the status line (English when they are missing).
    var words = status ? status.dataset : {};
    var progress = document.querySelector("[data-progress]");
    var clock = new PageClock();
    var pending = new Map(); // item id → payload not yet saved; the latest answer wins
    var inFlight = null; // the payload being sent, if any
    var retryDelay = RETRY_FIRST_MS;
    var retryTimer = null;
    var stopped = false;
    var answered = new Set();

    // Answered before: the server checked them in the page it sent.
    form.querySelectorAll("input[type=radio]").forEach(function (input) {
      if (input.defaultChecked) { answered.add(input.closest("[data-item-id]").dataset.itemId); }
    });

    function say(text, kind) {
      status.textContent = text;
      status.className = "save-status" + (kind ? " " + kind : "");
    }

    function countAnswer(itemId) {
      if (answered.has(itemId)) { return; }
      answered.add(itemId);
      if (countOut) { countOut.textContent = Number(countOut.textContent) + 1; }
      if (progress) { progress.value = Number(progress.value) + 1; }
    }

    // A failed payload replaced meanwhile by a newer answer hands its seconds on to it.
    function keepTime(itemId, payload) {
      var newer = pending.get(itemId);
      if (newer && newer !== payload) { newer.seconds += payload.seconds; }
    }

    function scheduleRetry() {
      if (retryTimer !== null || stopped) { return; }
      retryTimer = window.setTimeout(function () {
        retryTimer = null;
        flush();
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
    }

    function flush() {
      if (inFlight || stopped || pending.size === 0) { return; }
      var entry = pending.entries().next().value;
      var itemId = entry[0];
      var payload = entry[1];
      inFlight = payload;
      say(words.saving || "Saving…");
      fetch(url, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json", "X-Launch-Token": token() },
        body: JSON.stringify(payload)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { response: response, body: body };
        });
      }).then(function (outcome) {
        inFlight = null;
        var response = outcome.response;
        if (response.ok) {
          // A newer answer to the same item may have been queued meanwhile; keep that one.
          if (pending.get(itemId) === payload) { pending.delete(itemId); }
          retryDelay = RETRY_FIRST_MS;
          if (pending.size) { flush(); } else { say(words.saved || "Saved"); }
        } else if (response.status >= 500) {
          keepTime(itemId, payload);
          say(words.retrying || "Not saved — will retry", "warning");
          scheduleRetry();
        } else {
          // The server refused the answer (bad value, submitted, session ended): retrying
          // would be refused again, so say why and stop.
          stopped = true;
          var message = outcome.body.message || words.refused || "The answer was refused.";
          if (response.status === 401) {
            message = words.ended || "Not saved: your session has ended. Open the activity " +
              "again from your course; the answers saved so far are kept.";
          }
          say(message, "error");
        }
      }).catch(function () {
        // Network down or the tool unreachable: keep the answers and try again later.
        inFlight = null;
        keepTime(itemId, payload);
        say(words.retrying || "Not saved — will retry", "warning");
        scheduleRetry();
      });
    }

    function record(input) {
      var itemId = input.closest("[data-item-id]").dataset.itemId;
      var seconds = clock.take();
      var earlier = pending.get(itemId);
      if (earlier && earlier !== inFlight) { seconds += earlier.seconds; }
      pending.set(itemId, { item_id: itemId, value: Number(input.value), page: page, seconds: seconds });
      countAnswer(itemId);
    }

    form.addEventListener("change", function (event) {
      if (event.target.type !== "radio") { return; }
      record(event.target);
      flush();
    });

    // Answers chosen while this script was still loading (a slow connection): saved now.
    form.querySelectorAll("input[type=radio]:checked").forEach(function (input) {
      if (!input.defaultChecked) { record(input); }
    });
    flush();

    form.addEventListener("submit", function () {
      // The form carries this page's answers itself; it also reports the time not yet sent.
      var seconds = clock.take();
      pending.forEach(function (payload) { seconds += payload.seconds; });
      form.querySelector("input[name=seconds]").value = seconds.toFixed(1);
      // The waiting answers travel with the form now; sending them again would count their
      // seconds twice.
      pending.clear();
    });

    // Closing the tab: hand the answers still waiting to the browser, which sends them
    // even after the page is gone (keepalive keeps the token header, unlike sendBeacon).
    window.addEventListener("pagehide", function () {
      if (stopped) { return; }
      pending.forEach(function (payload) {
        if (payload === inFlight) { return; }
        fetch(url, {
          method: "POST",
          credentials: "omit",
          keepalive: true,
          headers: { "Content-Type": "application/json", "X-Launch-Token": token() },
          body: JSON.stringify(payload)
        }).catch(function () {});
      });
    });

    window.addEventListener("online", function () {
      if (retryTimer !== null) { window.clearTimeout(retryTimer); retryTimer = null; }
      retryDelay = RETRY_FIRST_MS;
      flush();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpPrinting();
    focusMessage();
    var form = document.querySelector("form.questionnaire[data-autosave-url]");
    if (form) { new Autosave(form); }
  });
})();
