/* Mieruka: small clientside callbacks of pages other than the map. */
(function () {
  "use strict";
  var m = window.mieruka;  // made by mieruka-base.js

  /** An indicator page's view → address bar (no history entry) and the language link. */
  m.cb.indicatorUrl = function (view) {
    var search = view.query ? "?" + view.query : "";
    if (window.location.search !== search) {
      window.history.replaceState(window.history.state, "", window.location.pathname + search);
    }
    var q = new URLSearchParams(view.query || "");
    if (view.lang === "en") q.delete("lang"); else q.set("lang", "en");
    var rest = q.toString();
    return window.location.pathname + (rest ? "?" + rest : "");
  };
})();
