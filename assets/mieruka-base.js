/* Mieruka: the browser namespace, loaded before the other scripts (assets load in name order).
 * window.mieruka holds the shared helpers; its .cb holds clientside callbacks, which Dash
 * looks up as window.dash_clientside[namespace][name] — hence the second name for it. */
(function () {
  "use strict";
  var m = (window.mieruka = window.mieruka || {});
  m.cb = m.cb || {};
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.mieruka = m.cb;

  /* A page in an iframe on another site (embed=1, see components/shell.py): its links open
   * the full site in a new tab rather than inside the frame, and the flag stays in the
   * address when a page rewrites its query (m.withPageFlags). */
  m.embedded = new URLSearchParams(window.location.search).get("embed") === "1";
  m.withPageFlags = function (query) {
    if (!m.embedded) return query || "";
    var q = new URLSearchParams(query || "");
    q.set("embed", "1");
    return q.toString();
  };
  /* Dash 4 draws RadioItems and Checklist as a role=listbox without a name of its own: name
   * each from the page's markup (a <label for> its id, else its fieldset's legend, else its
   * wrapper's title) so that a screen reader says which choice a group of buttons makes. */
  function nameChoiceLists() {
    document.querySelectorAll(".dash-options-list[role=listbox]:not([aria-label])").forEach(function (list) {
      var label = list.id && document.querySelector('label[for="' + CSS.escape(list.id) + '"]');
      var fieldset = list.closest("fieldset"), legend = fieldset && fieldset.querySelector("legend");
      var name = label ? label.textContent : legend ? legend.textContent : (list.parentElement || {}).title;
      if (name) list.setAttribute("aria-label", name.trim());
    });
  }

  /* The document's title in the page's language, from the shell's data-title (Dash Pages has
   * one Japanese title per page and sets it after each render: put ours back). */
  function syncTitle() {
    var app = document.querySelector(".mk-app[data-title]"), title = app && app.getAttribute("data-title");
    if (title && document.title !== title) document.title = title;
  }
  new MutationObserver(function () {
    nameChoiceLists();
    syncTitle();
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});

  /* On /map, Dash's own scripts (React, its renderer, the components) are left out of the
   * page's start (app.py gives them a type that neither runs nor is fetched, and leaves the
   * renderer's start as text): the map is what a visitor came for. m.fetchDash asks for them
   * once the map's data is in (mieruka-map.js: until then the connections are the map's), and
   * m.startDash runs them in their order and starts Dash's renderer after the last; the map
   * calls it once every layer is drawn, and a timer does 3 s after the page began if the map's
   * data is slow to come (on a slow phone the drawing itself takes over 1.5 s, and Dash run in
   * its middle delays both). Other pages start as usual. */
  var held = function () { return document.querySelectorAll('script[type="text/x-mieruka-later"]'); };
  var dashFetched = false, dashStarted = false;
  m.fetchDash = function () {
    if (dashFetched) return;
    dashFetched = true;
    held().forEach(function (script) {
      var link = document.createElement("link");
      link.rel = "preload";
      link.as = "script";
      link.href = script.getAttribute("src");
      document.head.appendChild(link);
    });
  };
  m.startDash = function () {
    var waiting = held();
    if (dashStarted || !waiting.length) return;
    dashStarted = true;
    var last = null;
    waiting.forEach(function (script) {
      var run = document.createElement("script");
      run.src = script.getAttribute("src");
      run.async = false;  // in order, as the page would have run them
      script.replaceWith(run);
      last = run;
    });
    last.addEventListener("load", function () { window.renderer = new window.DashRenderer(); });
  };
  if (document.getElementById("mk-boot-data")) setTimeout(m.startDash, Math.max(0, 3000 - performance.now()));

  /** Promise of the response to `url`, rejected unless it is a success. */
  m.fetchOk = function (url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r;
    });
  };

  /** Promise of the JSON answer to `url`, rejected unless it is a success. */
  m.fetchJson = function (url) {
    return m.fetchOk(url).then(function (r) { return r.json(); });
  };

  /** Promise of `text` on the clipboard; rejected where the page may not write it (not a
   * secure context, no permission): the caller then shows it to be copied by hand. */
  m.copy = function (text) {
    if (!navigator.clipboard || !window.isSecureContext) return Promise.reject(new Error("no clipboard"));
    return navigator.clipboard.writeText(text);
  };

  /* Offline (offline/sw.js, served by offline.py): a page shown from the worker's copy says so,
   * with the time it was kept; every other page, once loaded, has the worker keep what it
   * loaded (not in an embed: the framing site keeps its own offline story). */
  var kept = document.documentElement.getAttribute("data-mk-offline");
  if (kept) {
    var ja = (document.documentElement.lang || "ja") !== "en";
    var when = new Intl.DateTimeFormat(ja ? "ja-JP" : "en-GB", { dateStyle: "medium", timeStyle: "short" }).format(new Date(kept));
    document.documentElement.style.setProperty("--mk-saved", JSON.stringify(when + (ja ? "）" : ")")));
  } else if ("serviceWorker" in navigator && window.isSecureContext && !m.embedded) {
    window.addEventListener("load", function () {
      setTimeout(function () {
        navigator.serviceWorker.register("/sw.js").then(function () { return navigator.serviceWorker.ready; }).then(function (reg) {
          var urls = [window.location.href].concat(performance.getEntriesByType("resource").map(function (e) { return e.name; }));
          if (reg.active) reg.active.postMessage({ keep: urls.filter(function (u) { return u.indexOf(window.location.origin + "/") === 0; }) });
        }).catch(function () {});  // no worker: the site works as before, online only
      }, 1000);
    });
  }

  if (m.embedded) {
    var base = document.createElement("base");
    base.target = "_blank";
    document.head.appendChild(base);
  }
})();
