// The live delivery monitor: follows the organization's event stream (/ws/events/, the admin
// session authenticates it) and updates the table rows in place, without reloading the page.
(function () {
  "use strict";
  var table = document.getElementById("es-monitor");
  if (!table) { return; }
  var state = document.getElementById("es-monitor-state");
  var counter = document.getElementById("es-monitor-count");
  var body = table.querySelector("tbody");
  var organization = table.dataset.organization;
  var lastId = parseInt(table.dataset.lastEventId || "0", 10);
  var received = 0;
  var retries = 0;
  var pending = {}; // delivery id -> promise of its row while it is being fetched

  function setState(name, text) {
    state.dataset.state = name;
    state.textContent = text;
  }

  function badge(status) {
    var span = document.createElement("span");
    span.className = "es-badge es-badge-" + status;
    span.textContent = status;
    return span;
  }

  function rowFor(id) {
    var row = document.getElementById("delivery-" + id);
    if (row) { return Promise.resolve(row); }
    if (!pending[id]) {
      var url = table.dataset.rowUrl.replace("00000000-0000-0000-0000-000000000000", id);
      pending[id] = fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          delete pending[id];
          if (!html) { return null; }
          var template = document.createElement("template");
          template.innerHTML = html.trim();
          var fetched = template.content.firstElementChild;
          var empty = document.getElementById("es-monitor-empty");
          if (empty) { empty.remove(); }
          body.insertBefore(fetched, body.firstChild);
          return fetched;
        })
        .catch(function () {
          // A network error: forget the attempt, so the delivery's next event fetches again.
          delete pending[id];
          return null;
        });
    }
    return pending[id];
  }

  function apply(row, event) {
    // A row already newer than this event (fetched after it happened) keeps its state.
    if (!row || parseInt(row.dataset.eventId || "0", 10) >= event.id) { return; }
    var data = event.data;
    row.dataset.eventId = String(event.id);
    row.dataset.status = data.to;
    row.querySelector(".es-status").replaceChildren(badge(data.to));
    row.querySelector(".es-error").textContent = data.error || "—";
    if (data.store_message) { row.querySelector(".es-ack").textContent = data.store_message; }
    row.querySelector(".es-updated").textContent = event.occurred_at.replace("T", " ").slice(0, 19);
    row.classList.add("es-flash");
    setTimeout(function () { row.classList.remove("es-flash"); }, 1500);
  }

  function onEvent(event) {
    lastId = Math.max(lastId, event.id);
    received += 1;
    counter.textContent = String(received);
    if (event.type !== "delivery.status_changed") { return; }
    var id = event.data.subject_id;
    rowFor(id).then(function (row) { apply(row, event); });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(
      scheme + window.location.host + "/ws/events/?organization=" + encodeURIComponent(organization)
    );
    socket.onopen = function () {
      // Everything after the page's (or the last seen) event, then live: no gap.
      socket.send(JSON.stringify({ type: "resume", after: lastId }));
    };
    socket.onmessage = function (message) {
      var frame = JSON.parse(message.data);
      if (frame.type === "resumed") {
        retries = 0;
        setState("open", "live");
      } else if (typeof frame.id === "number") {
        onEvent(frame);
      }
    };
    socket.onclose = function (closed) {
      if (closed.code === 4401) {
        setState("closed", "not allowed: sign in again");
        return;
      }
      retries += 1;
      var delay = Math.min(15000, 500 * Math.pow(2, retries));
      setState("closed", "disconnected, reconnecting in " + Math.round(delay / 1000) + " s");
      setTimeout(connect, delay);
    };
  }

  connect();
}());
