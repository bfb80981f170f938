/* Mieruka: small clientside callbacks of pages other than the map. */
(function () {
  "use strict";
  var m = window.mieruka;  // made by mieruka-base.js

  /** An indicator page's view → address bar (no history entry) and the language link. */
  m.cb.indicatorUrl = function (view) {
    var query = m.withPageFlags(view.query);
    var search = query ? "?" + query : "";
    if (window.location.search !== search) {
      window.history.replaceState(window.history.state, "", window.location.pathname + search);
    }
    var q = new URLSearchParams(query);
    if (view.lang === "en") q.delete("lang"); else q.set("lang", "en");
    var rest = q.toString();
    return window.location.pathname + (rest ? "?" + rest : "");
  };

  /** A link to /data#dataset-… (from a notice): the page is drawn after the browser looked
   *  for the anchor, so scroll to it (and focus it for keyboard users) once it exists. */
  function scrollToHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) return true;
    var target = document.getElementById(id);
    if (!target) return false;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.scrollIntoView();
    target.focus({preventScroll: true});
    return true;
  }
  function waitForHash() {
    if (scrollToHash()) return;
    var observer = new MutationObserver(function () { if (scrollToHash()) observer.disconnect(); });
    observer.observe(document.body, {childList: true, subtree: true});
    setTimeout(function () { observer.disconnect(); }, 10000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", waitForHash);
  else waitForHash();
  window.addEventListener("hashchange", scrollToHash);
})();
