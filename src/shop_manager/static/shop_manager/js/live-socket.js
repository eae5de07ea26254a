// The one connection every live page uses: the dashboard (dashboard.js) and
// the product list, a product's page and its edit form (live-pages.js), with
// the frames and guarantees of docs/protocol.md. The page hands in the id it
// is current up to; every event after it reaches `onEvent` exactly once and in
// id order, whether it came live, in the replay that opens the socket, or in a
// gap fill asked for when an id or a heartbeat shows a gap. A lost connection
// is retried with backoff and replays from the last id held, so nothing lost
// in transit stays lost.

// The dashboard's countdown has words for every whole second up to
// shop_manager.live.strings.RECONNECT_MAX_SECONDS, which this matches.
const MAX_BACKOFF_MS = 30000;
const CLOSE_FORBIDDEN = 4403;
export const FETCH_TIMEOUT_MS = 10000;
// Early ids remembered while a gap stays unfilled; later ones are shown, but
// not as live (a page would not read out hundreds at once anyway).
const MAX_EARLY = 100;

// options: path (the socket path), after (the id the page holds everything
// up to), onEvent(event, live) (live: it came as an `event` frame, not only in
// a replay or gap fill, so a page may read it out); onStatus(state, {reconnectAt})
// with state "connecting" (the first socket), "live" (admitted), "offline"
// (lost: reconnectAt is when the next attempt starts while waiting for it,
// null while an attempt is under way) or "closed" (may no longer watch: no
// more attempts); hello, a frame sent on every connection once admitted (a
// reconnect is a new socket to the server); onFrame(frame) for the frames
// that are not about events (presence, alert_dismissed).
export function followChanges({ path, after, onEvent, onStatus = () => {}, hello = null, onFrame = () => {} }) {
  let synced = Number(after) || 0;
  let socket = null;
  let attempt = 0;
  let fetching = false;
  let fetchTimer = null;
  let stopped = false;
  // Ids that came as `event` frames ahead of a gap: they wait for the gap fill,
  // and are still live when it hands them on in their turn.
  const early = new Set();

  connect();
  return {
    stop() {
      stopped = true;
      if (socket) socket.close();
    },
  };

  function connect() {
    if (stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    status(attempt ? "offline" : "connecting");
    socket = new WebSocket(`${scheme}//${location.host}${path}?after=${synced}`);
    let admitted = false;
    socket.addEventListener("message", (message) => {
      // Live from the first frame, not from "open": a socket over the user's
      // limit is opened and closed (4429) before any frame, and must keep
      // backing off rather than retry at once.
      if (!admitted) {
        admitted = true;
        attempt = 0;
        status("live");
        if (hello) socket.send(JSON.stringify(hello));
      }
      receive(JSON.parse(message.data));
    });
    socket.addEventListener("close", (closed) => {
      fetching = false;
      if (stopped) return;
      if (closed.code === CLOSE_FORBIDDEN) {
        status("closed");
        return;
      }
      // Exponential backoff with full jitter, so a restarted server is not
      // hit by every open page at the same instant.
      const delay = Math.random() * Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
      attempt += 1;
      status("offline", Date.now() + delay);
      setTimeout(connect, delay);
    });
  }

  function status(state, reconnectAt = null) {
    onStatus(state, { reconnectAt });
  }

  function receive(frame) {
    if (frame.type === "frames") {
      // Several frames the server sent as one message: each means what it
      // would mean alone, in order.
      frame.frames.forEach(receive);
    } else if (frame.type === "event") {
      if (frame.id === synced + 1) {
        synced = frame.id;
        onEvent(frame, true);
      } else if (frame.id > synced) {
        // Something before it is missing: fetched, and this one with it, in order.
        if (early.size < MAX_EARLY) early.add(frame.id);
        requestMissing();
      }
    } else if (frame.type === "batch") {
      for (const event of frame.events) {
        if (event.id > synced) {
          synced = event.id;
          onEvent(event, early.has(event.id));
        }
      }
      synced = Math.max(synced, frame.until);
      for (const id of early) if (id <= synced) early.delete(id);
      fetching = false;
      if (frame.more) requestMissing();
    } else if (frame.type === "heartbeat") {
      if (frame.last_id > synced) requestMissing();
    } else {
      onFrame(frame);
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
}

// The page, as the server renders it now for this reader, parsed (never run:
// a parsed document executes no script), or null when it cannot be had.
export async function fetchPage(url) {
  try {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) return { status: response.status, doc: null };
    const html = await response.text();
    return { status: response.status, doc: new DOMParser().parseFromString(html, "text/html") };
  } catch {
    return { status: 0, doc: null };
  }
}

// "%(name)s" placeholders, as in the gettext strings they come from.
export function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
