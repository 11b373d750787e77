// readerapp's service worker, for reader leaders' phones. It keeps the pages the server lists
// for this leader (/offline/pages.json: the dashboard, the next and last 14 days' sessions and
// their log forms, the files they need) and answers from them when there is no connection.
// Logs saved offline wait in IndexedDB (offline-queue.js) and are sent by Background Sync where
// the browser has it; the pages send them too (on load, when the signal returns, "Send now").
// Nothing here is fetched from another origin.
importScripts("/static/js/offline-queue.js");

var CACHE = "readerapp-pages-v1";
var SYNC_TAG = "send-logs";

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// Keep (again) every page the server lists, and drop those it no longer lists.
function keepPages() {
  return ReaderQueue.session().then(function (info) {
    return caches.open(CACHE).then(function (cache) {
      var wanted = {};
      return info.pages.reduce(function (chain, url) {
        var absolute = new URL(url, self.location.origin).href;
        wanted[absolute] = true;
        return chain.then(function () {
          return fetch(absolute, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
            if (response.ok && !response.redirected) { return cache.put(absolute, response); }
          }, function () {});
        });
      }, Promise.resolve()).then(function () {
        return cache.keys();
      }).then(function (requests) {
        return Promise.all(requests.filter(function (request) { return !wanted[request.url]; })
          .map(function (request) { return cache.delete(request); }));
      }).then(function () { return info.pages.length; });
    });
  });
}

function tellPages(message) {
  return self.clients.matchAll({ includeUncontrolled: true }).then(function (clients) {
    clients.forEach(function (client) { client.postMessage(message); });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "keep-pages") {
    event.waitUntil(keepPages().then(function (count) {
      return tellPages({ type: "pages-kept", count: count });
    }, function () {
      return tellPages({ type: "pages-not-kept" });
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag === SYNC_TAG) {
    event.waitUntil(ReaderQueue.sendAll().then(function () {
      return tellPages({ type: "queue-changed" });
    }));
  }
});

function offlinePage() {
  var html = "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    "<title>Offline · readerapp</title><link rel=\"stylesheet\" href=\"/static/css/app.css\">" +
    "</head><body><main class=\"wrap\"><h1>No connection</h1><p>This page was not kept on " +
    "this phone for use offline. Your sessions of the last and next two weeks were: " +
    "<a href=\"/sessions\">My sessions</a>.</p></main></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  // Only this site's pages and files, read (never sent: a log goes to the network or the
  // queue), and never the list of pages itself.
  if (request.method !== "GET" || url.origin !== self.location.origin ||
      url.pathname === "/offline/pages.json" || url.pathname === "/sw.js") {
    return;
  }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected && !url.search) {
      // A kept page seen online is kept as it is now.
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) {
        return cache.match(url.href).then(function (kept) {
          if (kept) { return cache.put(url.href, copy); }
        });
      });
    }
    return response;
  }, function () {
    return caches.match(request, { ignoreSearch: true, ignoreVary: true }).then(function (kept) {
      if (kept) { return kept; }
      if (url.pathname === "/") { return caches.match("/sessions", { ignoreVary: true }); }
      return undefined;
    }).then(function (kept) {
      return kept || (request.mode === "navigate" ? offlinePage() : Response.error());
    });
  }));
});
