// Working with no signal, on the page's side, loaded on reader leaders' pages only. Each says
// what the device may do (body data-offline): "on" keep the pages and queue logs; "off" the
// installation switched offline mode off: send what is queued, then forget everything kept.
// Other roles' pages load no script: their sign-in cleared the device (Clear-Site-Data).
(function () {
  "use strict";
  var Q = window.ReaderQueue;
  var state = document.body.dataset.offline || "";
  if (!Q || !("indexedDB" in window)) { return; }
  var worker = "serviceWorker" in navigator ? navigator.serviceWorker : null;
  var SYNC_TAG = "send-logs";
  var KEPT_AT = "readerapp-pages-kept-at";
  var KEEP_EVERY_MS = 10 * 60 * 1000;

  function noop() {}

  function forget() {
    try { localStorage.removeItem(KEPT_AT); } catch (e) { noop(); }
    var unregister = worker ? worker.getRegistrations().then(function (registrations) {
      return Promise.all(registrations.map(function (r) { return r.unregister(); }));
    }) : Promise.resolve();
    return Promise.all([Q.deleteEverything(), unregister]);
  }

  // Signing out forgets the kept pages and the queue (the server's answer says so too).
  document.querySelectorAll("form[data-sign-out]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      Q.all().catch(function () { return []; }).then(function (items) {
        var waiting = items.length;
        if (waiting && !window.confirm(waiting + (waiting === 1 ? " log has" : " logs have") +
            " not been sent yet and will be deleted from this phone. Sign out anyway?")) {
          return;
        }
        forget().catch(noop).then(function () { form.submit(); });
      });
    });
  });

  if (state === "off") {
    // Logs still queued are sent first if they can be; then nothing stays on the device.
    Q.sendAll().catch(noop).then(forget).catch(noop);
    return;
  }
  if (state !== "on" || !worker) { return; }

  // --- the service worker and the pages it keeps ---------------------------------------------
  function keepPages(always) {
    var last = 0;
    try { last = Number(localStorage.getItem(KEPT_AT)) || 0; } catch (e) { noop(); }
    if (!navigator.onLine || (!always && Date.now() - last < KEEP_EVERY_MS)) { return; }
    worker.ready.then(function (registration) {
      if (registration.active) { registration.active.postMessage({ type: "keep-pages" }); }
    });
  }

  worker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "pages-kept") {
      try { localStorage.setItem(KEPT_AT, String(Date.now())); } catch (e) { noop(); }
      document.body.dataset.offlineReady = "yes";
    } else if (data.type === "queue-changed") {
      render();
    }
  });
  worker.register("/sw.js").then(function () {
    keepPages(Boolean(document.querySelector("[data-offline-queue]")));
  }, noop);

  function askForSync() {
    return worker.ready.then(function (registration) {
      if (registration.sync) { return registration.sync.register(SYNC_TAG); }
    }).catch(noop);
  }

  // --- the queue, on the dashboard -------------------------------------------------------------
  var section = document.querySelector("[data-offline-queue]");
  var STATES = {
    waiting: "Waiting to send",
    conflict: "Not sent: someone else logged this session meanwhile. See both versions, then choose.",
    refused: "Not sent: something in it needs correcting.",
  };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function savedWhen(iso) {
    var when = new Date(iso);
    return when.toLocaleString("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  // Open the log's form with what was queued, as the server sees it now: the conflict page
  // shows both versions, or the form its errors. The log leaves the queue: the form holds it.
  function review(item) {
    return Q.session().then(function (info) {
      var form = element("form");
      form.method = "post";
      form.action = item.url;
      form.hidden = true;
      item.fields.forEach(function (pair) {
        var input = element("input");
        input.type = "hidden";
        input.name = pair[0];
        input.value = pair[0] === "csrf_token" ? info.csrf_token : pair[1];
        form.appendChild(input);
      });
      document.body.appendChild(form);
      return Q.remove(item.key).then(function () { form.submit(); });
    }, function () { status("Connect to the internet to see both versions."); });
  }

  function status(text) {
    var line = section && section.querySelector("[data-queue-status]");
    if (line) { line.textContent = text; }
  }

  function render() {
    if (!section) { return Promise.resolve(); }
    return Q.all().then(function (items) {
      var list = section.querySelector("[data-queue-list]");
      list.textContent = "";
      section.hidden = !items.length;
      section.querySelector("[data-queue-count]").textContent = String(items.length);
      items.forEach(function (item) {
        var card = element("li", "card queued-log queued-" + item.state);
        card.dataset.key = item.key;
        card.appendChild(element("h3", "", item.label || item.url));
        card.appendChild(element("p", "queue-state", STATES[item.state] || STATES.waiting));
        card.appendChild(element("p", "meta", "Saved on this phone " + savedWhen(item.savedAt) +
          (item.fields.some(function (p) { return p[0] === "entered_late" && p[1]; }) ? " · from paper" : "")));
        var actions = element("p", "actions");
        if (item.state === "waiting") {
          var edit = element("a", "", "Change it");
          edit.href = item.url + "?queued=" + encodeURIComponent(item.key);
          actions.appendChild(edit);
        } else {
          var open = element("button", "button-secondary", item.state === "conflict" ? "See both versions" : "Correct it");
          open.type = "button";
          open.addEventListener("click", function () { review(item); });
          actions.appendChild(open);
        }
        card.appendChild(actions);
        list.appendChild(card);
      });
    });
  }

  function sendNow() {
    if (!navigator.onLine) {
      status("No connection: the logs will be sent when the signal returns.");
      return Promise.resolve();
    }
    status("Sending…");
    return Q.sendAll().then(function (sent) {
      return render().then(function () {
        return Q.all().then(function (left) {
          var waiting = left.filter(function (i) { return i.state === "waiting"; }).length;
          status((sent ? sent + (sent === 1 ? " log sent." : " logs sent.") : "") +
            (waiting ? " " + waiting + " still waiting: they will be sent when the connection returns." : ""));
        });
      });
    });
  }

  if (section) {
    section.querySelector("[data-send-now]").addEventListener("click", sendNow);
  }
  render().then(function () {
    if (navigator.onLine) { return Q.sendAll().then(render); }
  }).catch(noop);
  window.addEventListener("online", function () {
    sendNow();
    keepPages(false);
  });

  // --- the log form: saved with no signal, the log joins the queue ----------------------------
  var form = document.querySelector("form[data-offline-log]");
  if (!form) { return; }
  var queuedKey = new URLSearchParams(location.search).get("queued");
  var notice = document.querySelector("[data-offline-notice]");
  function showNotice() { if (notice) { notice.hidden = navigator.onLine; } }
  window.addEventListener("online", showNotice);
  window.addEventListener("offline", showNotice);
  showNotice();

  function fill(item) {
    var values = {};
    item.fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.name === "csrf_token" || input.type === "submit") { return; }
      var given = values[input.name] || [];
      if (input.type === "checkbox" || input.type === "radio") {
        input.checked = given.indexOf(input.value) !== -1;
      } else if (input.name in values) {
        input.value = given[0];
      }
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  if (queuedKey) {
    Q.get(queuedKey).then(function (item) { if (item) { fill(item); } }).catch(noop);
  }

  form.addEventListener("submit", function (event) {
    if (event.submitter && event.submitter.name === "show_names") { return; }
    if (navigator.onLine) {
      if (!queuedKey) { return; }
      // A queued log changed and saved with a signal: sent now, with its own key.
      event.preventDefault();
      form.elements.idempotency_key.value = queuedKey;
      Q.remove(queuedKey).catch(noop).then(function () { form.submit(); });
      return;
    }
    event.preventDefault();
    var key = queuedKey || (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(36).slice(2));
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (name === "idempotency_key") { value = key; }
      if (name === "form_token") { value = ""; }
      fields.push([name, String(value)]);
    });
    Q.get(key).catch(noop).then(function (earlier) {
      return Q.put({
        key: key,
        url: location.pathname,
        label: form.dataset.label,
        fields: fields,
        state: "waiting",
        savedAt: earlier ? earlier.savedAt : new Date().toISOString(),
      });
    }).then(askForSync).then(function () {
      location.assign(form.dataset.dashboard);
    });
  });
})();
