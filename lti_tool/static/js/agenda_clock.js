// The session guide's clock: which agenda part is running, how long it has run against its
// planned minutes, and the session's total. It runs in the browser alone (no request to the
// tool) and announces a part's end to screen readers. Saving a note or a goal reloads the
// page, so the clock keeps its state in sessionStorage and, because a third-party frame may
// have no storage at all, in the frame's window.name too (which lasts across the frame's
// navigations). Without this script the agenda is a plain list and the clock stays hidden.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function mmss(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    return Math.floor(seconds / 60) + ":" + pad(seconds % 60);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var clock = document.querySelector("[data-agenda-clock]");
    var parts = Array.prototype.slice.call(document.querySelectorAll("[data-agenda-part]"));
    if (!clock || !parts.length) { return; }
    clock.hidden = false;
    var key = "agenda-clock:" + location.pathname;
    var state = { index: 0, partSeconds: [], runningSince: null };
    function load() {
      var text = null;
      try { text = sessionStorage.getItem(key); } catch (e) { /* blocked in the frame */ }
      if (!text && window.name.indexOf(key + "|") === 0) {
        text = window.name.slice(key.length + 1);
      }
      try {
        var saved = JSON.parse(text || "null");
        if (saved && typeof saved.index === "number" && saved.index < parts.length) {
          state = saved;
        }
      } catch (e) { /* unreadable: start afresh */ }
    }
    load();
    parts.forEach(function (_, i) { state.partSeconds[i] = state.partSeconds[i] || 0; });

    var toggle = clock.querySelector("[data-clock-toggle]");
    var announce = clock.querySelector("[data-clock-announce]");
    var announcedOver = {};

    function save() {
      var text = JSON.stringify(state);
      try { sessionStorage.setItem(key, text); } catch (e) { /* blocked: window.name holds it */ }
      window.name = key + "|" + text;
    }
    function now() { return Date.now() / 1000; }
    function spent(i) {
      var extra = (i === state.index && state.runningSince) ? now() - state.runningSince : 0;
      return state.partSeconds[i] + extra;
    }
    function say(template, part) {
      announce.textContent = template.replace("{part}", part.dataset.title);
    }
    function render() {
      var part = parts[state.index];
      var planned = Number(part.dataset.minutes) * 60;
      var used = spent(state.index);
      var total = 0;
      parts.forEach(function (_, i) { total += spent(i); });
      clock.querySelector("[data-clock-part]").textContent = part.dataset.title;
      clock.querySelector("[data-clock-part-time]").textContent = mmss(used);
      clock.querySelector("[data-clock-part-planned]").textContent = mmss(planned);
      clock.querySelector("[data-clock-total]").textContent = mmss(total);
      clock.classList.toggle("over-time", used > planned);
      parts.forEach(function (p, i) {
        p.classList.toggle("current", i === state.index);
        p.classList.toggle("finished", i < state.index);
        if (i === state.index) { p.setAttribute("aria-current", "step"); }
        else { p.removeAttribute("aria-current"); }
      });
      toggle.textContent = state.runningSince ? toggle.dataset.labelPause
                                              : toggle.dataset.labelStart;
      toggle.setAttribute("aria-pressed", state.runningSince ? "true" : "false");
      if (used > planned && !announcedOver[state.index]) {
        announcedOver[state.index] = true;
        say(announce.dataset.over, part);
      }
    }
    function stop() {
      if (state.runningSince) {
        state.partSeconds[state.index] += now() - state.runningSince;
        state.runningSince = null;
      }
    }

    toggle.addEventListener("click", function () {
      if (state.runningSince) { stop(); } else {
        state.runningSince = now();
        say(announce.dataset.started, parts[state.index]);
      }
      save(); render();
    });
    clock.querySelector("[data-clock-next]").addEventListener("click", function () {
      if (state.index >= parts.length - 1) { return; }
      var running = !!state.runningSince;
      stop();
      state.index += 1;
      if (running) { state.runningSince = now(); }
      say(announce.dataset.started, parts[state.index]);
      save(); render();
      parts[state.index].scrollIntoView({ block: "start" });
    });
    clock.querySelector("[data-clock-reset]").addEventListener("click", function () {
      state = { index: 0, partSeconds: parts.map(function () { return 0; }), runningSince: null };
      announcedOver = {};
      save(); render();
    });
    render();
    setInterval(function () { if (state.runningSince) { render(); } }, 1000);
  });
}());
