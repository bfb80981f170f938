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
  if (m.embedded) {
    var base = document.createElement("base");
    base.target = "_blank";
    document.head.appendChild(base);
  }
})();
