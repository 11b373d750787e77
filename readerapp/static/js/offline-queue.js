// Logs saved with no signal wait here, in IndexedDB, until they can be sent. Shared by the pages
// (offline.js) and the service worker (Background Sync), so it touches no page. Each log keeps
// the idempotency key made for it on this device: sending it twice (a reply lost with the
// signal, or the page and the service worker at once) still writes it once on the server.
(function (scope) {
  "use strict";
  var DB_NAME = "readerapp-offline";
  var STORE = "queue";
  var PAGES_URL = "/offline/pages.json";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var request = action(transaction.objectStore(STORE));
        transaction.oncomplete = function () {
          db.close();
          resolve(request ? request.result : undefined);
        };
        transaction.onerror = function () { db.close(); reject(transaction.error); };
      });
    });
  }

  function all() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.savedAt < b.savedAt ? -1 : 1; });
    });
  }
  function get(key) { return withStore("readonly", function (store) { return store.get(key); }); }
  function put(item) { return withStore("readwrite", function (store) { return store.put(item); }); }
  function remove(key) { return withStore("readwrite", function (store) { return store.delete(key); }); }
  function clear() { return withStore("readwrite", function (store) { return store.clear(); }); }

  function deleteEverything() {
    // The queue's database and every cache this site made.
    var dropDb = new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    });
    var dropCaches = scope.caches ? caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) { return caches.delete(name); }));
    }) : Promise.resolve();
    return Promise.all([dropDb, dropCaches]);
  }

  // A fresh form token: the one in a page kept for days may have run out. Fails when offline
  // or signed out (then nothing is sent, and the queue waits).
  function session() {
    return fetch(PAGES_URL, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (!response.ok || response.redirected) { throw new Error("not signed in"); }
      return response.json();
    });
  }

  function body(item, csrfToken) {
    var data = new URLSearchParams();
    item.fields.forEach(function (pair) {
      data.append(pair[0], pair[0] === "csrf_token" ? csrfToken : pair[1]);
    });
    return data;
  }

  // One log: "sent" (or found sent already), "conflict" (someone else logged the session
  // meanwhile), "refused" (the server wants a correction), "waiting" (no connection).
  function sendOne(item, csrfToken) {
    return fetch(item.url, {
      method: "POST",
      body: body(item, csrfToken),
      credentials: "same-origin",
      redirect: "follow",
    }).then(function (response) {
      var path = new URL(response.url).pathname;
      if (response.redirected && path.indexOf("/sign-in") === 0) { return "waiting"; }
      if (response.ok && response.redirected) {
        return remove(item.key).then(function () { return "sent"; });
      }
      item.state = response.status === 409 ? "conflict" : "refused";
      item.checkedAt = new Date().toISOString();
      return put(item).then(function () { return item.state; });
    }, function () { return "waiting"; });
  }

  var sending = null;

  // Send every waiting log, one after another; resolves to how many were sent.
  function sendAll() {
    if (sending) { return sending; }
    sending = all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state === "waiting"; });
      if (!waiting.length) { return 0; }
      return session().then(function (info) {
        var sent = 0;
        return waiting.reduce(function (chain, item) {
          return chain.then(function () {
            return sendOne(item, info.csrf_token).then(function (outcome) {
              if (outcome === "sent") { sent += 1; }
            });
          });
        }, Promise.resolve()).then(function () { return sent; });
      }, function () { return 0; });
    }).finally(function () { sending = null; });
    return sending;
  }

  scope.ReaderQueue = {
    all: all,
    get: get,
    put: put,
    remove: remove,
    clear: clear,
    deleteEverything: deleteEverything,
    session: session,
    sendAll: sendAll,
  };
})(self);
