/* Mieruka's service worker (issue 11: offline), served as /sw.js by offline.py.
 *
 * What a visitor has seen stays readable without a signal: pages are asked of the network
 * first and kept; without an answer, the kept copy is served, marked on its <html> with
 * data-mk-offline (the time it was kept: assets/mieruka-base.js shows the notice). Files whose
 * address names their version (?v=…: scripts, styles, a layer's data) are served from what is
 * kept; Dash's layout and the API's other answers from the network, kept for a rainy day.
 * Callbacks (POST), reports, staff pages and /healthz pass by. At its first visit the page
 * hands over the addresses it has already loaded (a "keep" message), as this worker was not
 * there to see them. Nothing but this site's own addresses is kept, at most MAX answers.
 */
"use strict";
var CACHE = "mieruka-1";
var MAX = 400;

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  var quietly = function (promise) { return Promise.resolve(promise).catch(function () {}); };
  event.waitUntil(Promise.all([
    quietly(caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
    })),
    // the page's request starts while the worker wakes up
    quietly(self.registration.navigationPreload && self.registration.navigationPreload.enable()),
  ]).then(function () { return self.clients.claim(); }));
});

/** The oldest answers go once there are more than MAX. */
function trim(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX)).map(function (k) { return cache.delete(k); }));
  });
}

function keep(request, response) {
  if (response && response.ok && response.type === "basic") {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { return cache.put(request, copy).then(function () { return trim(cache); }); })
      .catch(function () {});
  }
  return response;
}

/** A kept page, marked as shown offline with the time it was kept. */
function offlineCopy(response) {
  // its Date (a server may send two: the first)
  var date = /\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT/.exec(response.headers.get("date") || "");
  var kept = new Date(date ? Date.parse(date[0]) : Date.now()).toISOString();
  return response.text().then(function (text) {
    return new Response(text.replace(/<html\b/i, '<html data-mk-offline="' + kept + '"'),
                        { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

function keptOr(request, fallback) {
  return caches.match(request).then(function (hit) { return hit || fallback(); });
}

function passesBy(url) {
  return /^\/(admin\/|healthz|_dash-update-component|sw\.js)/.test(url.pathname) || url.pathname === "/api/v1/reports";
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || passesBy(url)) return;
  if (request.mode === "navigate") {
    event.respondWith(Promise.resolve(event.preloadResponse).then(function (preloaded) {
      return preloaded || fetch(request);
    }).then(function (response) {
      return response.ok ? keep(request, response) : response;
    }).catch(function () {
      // no answer: this page as kept, else the last kept page of the same path
      return caches.match(request).then(function (hit) {
        return hit || caches.match(url.pathname, { ignoreSearch: true });
      }).then(function (hit) {
        return hit ? offlineCopy(hit.clone()).catch(function () { return hit; }) : Response.error();
      });
    }));
    return;
  }
  if (url.searchParams.has("v") || url.pathname.indexOf("/_dash-component-suites/") === 0) {
    event.respondWith(keptOr(request, function () { return fetch(request).then(function (r) { return keep(request, r); }); }));
    return;
  }
  event.respondWith(fetch(request).then(function (r) { return keep(request, r); }).catch(function () {
    return keptOr(request, function () { return Response.error(); });
  }));
});

/* The page's first visit: what it loaded before this worker was there. */
self.addEventListener("message", function (event) {
  var urls = event.data && event.data.keep;
  if (!Array.isArray(urls)) return;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      var url = new URL(u, self.location.origin);
      if (url.origin !== self.location.origin || passesBy(url)) return null;
      return cache.match(url.href).then(function (hit) {
        return hit || fetch(url.href, { credentials: "same-origin" }).then(function (r) {
          return r.ok ? cache.put(url.href, r) : null;
        }).catch(function () {});
      });
    })).then(function () { return trim(cache); });
  }));
});
