/* Mieruka: small clientside callbacks of pages other than the map. */
(function () {
  "use strict";
  var m = window.mieruka;  // made by mieruka-base.js

  /** A page's view ({query, lang}: an indicator page, the dashboard's area) → the address
   *  bar (no history entry) and the language link. */
  m.cb.pageUrl = function (view) {
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

  /** "Embed this page" (components/embed_code.py): the <iframe> code of the view on screen,
   *  from the address (which holds the whole view) or the box's fixed data-path. */
  function attribute(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }
  m.embedCode = function (box) {
    var here = box.getAttribute("data-path") || window.location.pathname + window.location.search;
    var url = new URL(here, window.location.origin);
    url.searchParams.set("embed", "1");
    return '<iframe src="' + attribute(url.href) + '" title="' + attribute(box.getAttribute("data-title")) + '"\n' +
           '        width="100%" height="600" style="border:0" loading="lazy" allow="geolocation"></iframe>';
  };
  document.addEventListener("toggle", function (event) {  // toggle does not bubble: listen on the way down
    var box = event.target;
    if (box.matches && box.matches("details.mk-embed-code") && box.open) {
      box.querySelector("textarea").value = m.embedCode(box);
    }
  }, true);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".mk-embed-copy");
    if (!button) return;
    var box = button.closest("details"), area = box.querySelector("textarea");
    var status = box.querySelector("[role=status]");
    area.value = m.embedCode(box);  // the view may have changed since the box opened
    area.select();
    var done = function () { status.textContent = box.getAttribute("data-copied"); };
    var fallback = function () { if (document.execCommand("copy")) done(); };
    m.copy(area.value).then(done, fallback);
  });

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
