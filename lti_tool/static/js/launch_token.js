// Keeps this page's link token fresh (see lti_tool/lti/session.py). A token in an address
// works for a few minutes only; the page asks for a new one with its page token (in the
// <meta name="launch-token">, sent in a header, never in an address) and rewrites its links,
// its GET forms and its own address, so that the page keeps working for the whole launch
// session while an address copied out of it soon stops.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="launch-token"]');
  if (!meta || !window.fetch || !window.URL) {
    return;
  }
  var renewUrl = meta.getAttribute("data-renew-url");
  var lifetime = Number(meta.getAttribute("data-url-seconds")) * 1000;
  var renewedAt = Date.now();
  var pending = null;

  function withToken(address, token) {
    var url = new URL(address, window.location.href);
    if (url.origin !== window.location.origin || !url.searchParams.has("lt")) {
      return null;
    }
    url.searchParams.set("lt", token);
    return url;
  }

  function useToken(token) {
    // POST forms carry the page token and keep it; a GET form puts its token in an address.
    document.querySelectorAll('form[method="get" i] input[name="lt"]').forEach(function (input) {
      input.value = token;
    });
    document.querySelectorAll("a[href]").forEach(function (link) {
      var url = withToken(link.getAttribute("href"), token);
      if (url) {
        link.setAttribute("href", url.pathname + url.search + url.hash);
      }
    });
    var here = withToken(window.location.href, token);
    if (here) {
      // Reloading the page, or coming back to it, uses the renewed address.
      window.history.replaceState(window.history.state, "", here.pathname + here.search + here.hash);
    }
  }

  function renew() {
    if (pending) {
      return pending;
    }
    pending = fetch(renewUrl, {
      method: "POST",
      headers: { "X-Launch-Token": meta.getAttribute("content") },
      credentials: "omit",
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("renewal refused: " + response.status);
      }
      return response.json();
    }).then(function (answer) {
      useToken(answer.token);
      renewedAt = Date.now();
    }).catch(function () {
      // The launch session ended: the next page says so and how to open the activity again.
    }).then(function () {
      pending = null;
    });
    return pending;
  }

  function olderThan(share) {
    return Date.now() - renewedAt > lifetime * share;
  }

  // Renew at half the lifetime; timers sleep with the computer, so check again on return.
  window.setInterval(function () {
    if (olderThan(0.5)) {
      renew();
    }
  }, 20000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && olderThan(0.5)) {
      renew();
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      renew();
    }
  });
  // A link followed when the token may be too old (the tab slept): renew first.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
        event.ctrlKey || event.shiftKey || event.altKey || !olderThan(0.8) ||
        (link.target && link.target !== "_self")) {
      return;
    }
    if (!withToken(link.getAttribute("href"), "x")) {
      return;
    }
    event.preventDefault();
    renew().then(function () {
      window.location.assign(link.getAttribute("href"));
    });
  });
}());
