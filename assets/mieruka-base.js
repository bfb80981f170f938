/* Mieruka: the browser namespace, loaded before the other scripts (assets load in name order).
 * window.mieruka holds the shared helpers; its .cb holds clientside callbacks, which Dash
 * looks up as window.dash_clientside[namespace][name] — hence the second name for it. */
(function () {
  "use strict";
  var m = (window.mieruka = window.mieruka || {});
  m.cb = m.cb || {};
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.mieruka = m.cb;
})();
