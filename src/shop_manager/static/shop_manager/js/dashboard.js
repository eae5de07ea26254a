// Live product dashboard: renders the page's initial events, then follows the
// websocket. Every event has a global id; the client keeps `synced`, the id up
// to which it holds everything, and asks the server for whatever lies beyond it
// when a live event skips ahead or a heartbeat reports a newer id. So nothing
// lost in transit (a reconnect, a Redis blip, a full channel) stays lost.
// Text is only ever written with textContent.

const MAX_ROWS = 500;
const MAX_BACKOFF_MS = 30000;
const CLOSE_FORBIDDEN = 4403;
const FETCH_TIMEOUT_MS = 10000;

const root = document.querySelector("[data-shop-manager-dashboard]");
if (root) {
  startDashboard(root);
}

function startDashboard(root) {
  const feed = root.querySelector("[data-feed]");
  const empty = root.querySelector("[data-feed-empty]");
  const status = root.querySelector("[data-connection]");
  const filters = [...root.querySelectorAll('input[name="action"]')];
  const initial = JSON.parse(document.getElementById("sm-initial-events").textContent);

  const seen = new Set();
  let synced = Number(root.dataset.lastId) || 0;
  let socket = null;
  let attempt = 0;
  let fetching = false;
  let fetchTimer = null;

  // The server rendered the same events for readers without JavaScript;
  // render them again here, where new ones are placed and filtered.
  feed.replaceChildren();
  initial.forEach(add);
  applyFilters();
  filters.forEach((box) => box.addEventListener("change", applyFilters));
  // Shown only now that something runs them (an older override may lack it).
  const filterBox = root.querySelector("[data-feed-filter]");
  if (filterBox) filterBox.hidden = false;
  connect();

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}${root.dataset.socketPath}?after=${synced}`;
    setStatus("connecting", attempt ? "Reconnecting…" : "Connecting…");
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      attempt = 0;
      setStatus("live", "Live");
    });
    socket.addEventListener("message", (message) => receive(JSON.parse(message.data)));
    socket.addEventListener("close", (closed) => {
      fetching = false;
      if (closed.code === CLOSE_FORBIDDEN) {
        setStatus("closed", "Disconnected: you may no longer watch this dashboard.");
        return;
      }
      // Exponential backoff with full jitter, so a restarted server is not
      // hit by every dashboard at the same instant.
      const delay = Math.random() * Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
      attempt += 1;
      countDownTo(Date.now() + delay);
    });
  }

  function countDownTo(reconnectAt) {
    const left = reconnectAt - Date.now();
    if (left <= 0) {
      connect();
      return;
    }
    setStatus("reconnecting", `Offline, reconnecting in ${Math.ceil(left / 1000)} s…`);
    setTimeout(() => countDownTo(reconnectAt), Math.min(left, 1000));
  }

  function receive(frame) {
    if (frame.type === "event") {
      add(frame);
      applyFilters();
      if (frame.id === synced + 1) {
        synced = frame.id;
      } else if (frame.id > synced) {
        requestMissing();
      }
    } else if (frame.type === "batch") {
      frame.events.forEach(add);
      applyFilters();
      synced = Math.max(synced, frame.until);
      fetching = false;
      if (frame.more) requestMissing();
    } else if (frame.type === "heartbeat") {
      if (frame.last_id > synced) requestMissing();
    }
  }

  function requestMissing() {
    if (fetching || !socket || socket.readyState !== WebSocket.OPEN) return;
    fetching = true;
    socket.send(JSON.stringify({ type: "fetch", after: synced }));
    // If the reply is lost, let the next heartbeat or gap ask again.
    clearTimeout(fetchTimer);
    fetchTimer = setTimeout(() => { fetching = false; }, FETCH_TIMEOUT_MS);
  }

  function add(event) {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    const row = render(event);
    // Newest first: insert before the first row with a smaller id.
    const next = [...feed.children].find((item) => Number(item.dataset.id) < event.id);
    feed.insertBefore(row, next || null);
    while (feed.children.length > MAX_ROWS) feed.lastElementChild.remove();
  }

  function render(event) {
    const item = element("li", "sm-feed-item");
    item.dataset.id = String(event.id);
    item.dataset.action = event.action;

    const meta = element("div", "sm-feed-meta");
    meta.append(element("span", "sm-feed-action", event.action));
    const time = element("time", "", new Date(event.time).toLocaleString());
    time.dateTime = event.time;
    meta.append(time);
    meta.append(element("span", "sm-feed-actor", event.actor ? `by ${event.actor}` : "by nobody (system)"));
    meta.append(element("span", "sm-feed-id", `#${event.id}`));
    item.append(meta);

    // An update lists its fields below, so its line says only what happened;
    // the full sentence (with the diff inline) would repeat them.
    const fields = Object.entries(event.changes || {});
    const listed = event.action === "updated" && fields.length > 0;
    const text = listed ? event.headline : event.message;
    const message = element("p", "sm-feed-message");
    if (event.product.url) {
      const link = element("a", "", text);
      link.href = event.product.url;
      message.append(link);
    } else {
      message.textContent = text;
    }
    item.append(message);

    if (listed) {
      const list = element("ul", "sm-feed-changes");
      for (const [field, change] of fields) {
        list.append(element("li", "", `${field.replaceAll("_", " ")}: ${show(change.old)} → ${show(change.new)}`));
      }
      item.append(list);
    }
    return item;
  }

  function applyFilters() {
    const shown = new Set(filters.filter((box) => box.checked).map((box) => box.value));
    let visible = 0;
    for (const item of feed.children) {
      item.hidden = !shown.has(item.dataset.action);
      if (!item.hidden) visible += 1;
    }
    empty.hidden = visible > 0;
    empty.textContent = feed.children.length ? empty.dataset.filtered : empty.dataset.none;
  }

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function show(value) {
  return value === null || value === "" ? "—" : String(value);
}
