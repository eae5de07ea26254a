// Live product dashboard: renders the page's initial events, then follows the
// websocket through live-socket.js, the connection every live page shares: it
// hands on each event after the page's last id exactly once, in id order,
// whether it came live, in a replay after a reconnect or in a gap fill, so
// nothing lost in transit (a reconnect, a Redis blip, a full channel) stays
// lost and nothing is shown or counted twice.
// Text is only ever written with textContent, and every word comes translated
// from the page (the sm-dashboard-strings json_script): an event is worded here
// from its codes (action, field names) in the page's language, whatever
// language the server sent its words in, and dated as the server dates it.
// Each new event also moves the summary tiles and raises or takes down the
// stock alerts it carries (decided on the server when it was logged), so the
// page stays what a reload would show.

import { element, FETCH_TIMEOUT_MS, fill, followChanges } from "./live-socket.js";

const MAX_ROWS = 500;
// Announcements kept in the live region (older ones have been read).
const MAX_ANNOUNCEMENTS = 5;
// How often the relative times ("2 min ago") and the day's count are renewed.
const TICK_MS = 15000;
const DAY_MS = 86400000;
// The conditions whose alerts are shown as dangers; the others warn.
const DANGER = new Set(["out_of_stock", "expired"]);
// The tone a tile takes while its count is above zero.
const TONES = { low_stock: "warn", out_of_stock: "danger", expiring_soon: "warn" };

const root = document.querySelector("[data-shop-manager-dashboard]");
if (root && !document.getElementById("sm-dashboard-strings")) {
  // A dashboard.html override from before the strings moved to the page.
  console.error("dashboard.js: the page lacks the sm-dashboard-strings json_script (docs/templates.md).");
} else if (root) {
  startDashboard(root);
}

function startDashboard(root) {
  const feed = root.querySelector("[data-feed]");
  const empty = root.querySelector("[data-feed-empty]");
  const status = root.querySelector("[data-connection]");
  const countdown = root.querySelector("[data-reconnect-countdown]");
  const olderButton = root.querySelector("[data-load-older]");
  const olderStatus = root.querySelector("[data-older-status]");
  const announcer = root.querySelector("[data-feed-announcer]");
  const filters = [...root.querySelectorAll('input[name="action"]')];
  const productFilter = root.querySelector("[data-filter-product]");
  const actorFilter = root.querySelector("[data-filter-actor]");
  const alertsList = root.querySelector("[data-alerts-list]");
  const alertsEmpty = root.querySelector("[data-alerts-empty]");
  const alertsCount = root.querySelector("[data-alerts-count]");
  const initial = JSON.parse(document.getElementById("sm-initial-events").textContent);
  const text = JSON.parse(document.getElementById("sm-dashboard-strings").textContent);
  // From a dashboard.html override's older strings: the frame's own labels.
  const fieldLabels = text.fields || {};
  const locale = supportedLocale(document.documentElement.lang);
  // Prices as the server writes them: the site's currency around the amount.
  const currencyFormat = root.dataset.currencyFormat || "{amount}";
  const moneyFields = new Set((root.dataset.moneyFields || "").split(" ").filter(Boolean));
  const amounts = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const numbers = new Intl.NumberFormat(locale);
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });

  let countdownTimer = null;
  // Live rows push the oldest out past this; loading older rows raises it,
  // since the user asked for them.
  let capacity = MAX_ROWS;
  let hasOlder = root.dataset.hasOlder === "true";
  // Not button.disabled: disabling the focused button would drop its focus.
  let loadingOlder = false;

  // The server rendered the same events for readers without JavaScript;
  // render them again here, where new ones are placed and filtered.
  feed.replaceChildren();
  initial.forEach(add);
  applyFilters();
  filters.forEach((box) => box.addEventListener("change", applyFilters));
  if (productFilter) productFilter.addEventListener("input", applyFilters);
  if (actorFilter) actorFilter.addEventListener("change", applyFilters);
  if (alertsList) alertsList.addEventListener("submit", dismiss);
  setInterval(tick, TICK_MS);
  // Shown only now that something runs them (an older override may lack it).
  const filterBox = root.querySelector("[data-feed-filter]");
  if (filterBox) filterBox.hidden = false;
  if (olderButton) olderButton.addEventListener("click", loadOlder);
  showOlderButton();
  // The page's tiles and alerts already count every event up to data-last-id;
  // the socket hands on only the later ones, each once.
  followChanges({
    path: root.dataset.socketPath,
    after: root.dataset.lastId,
    onEvent: receive,
    onStatus: followStatus,
    onFrame(frame) {
      if (frame.type === "alert_dismissed") takeDown(frame.product, frame.condition);
    },
  });

  // live: it came as it happened, so it is read out; a replay after a
  // reconnect is not, or a reconnect would read a hundred.
  function receive(event, live) {
    const row = add(event);
    filterRow(row);
    showEmpty();
    applyEvent(event);
    if (live) announce(row);
  }

  function followStatus(state, { reconnectAt = null } = {}) {
    clearTimeout(countdownTimer);
    if (reconnectAt !== null) {
      countDownTo(reconnectAt);
      return;
    }
    showCountdown(null);
    // After a loss the words stay "offline" through every attempt: the live
    // region speaks once per real change of state, not once per try.
    if (state === "offline") setStatus("connecting", text.status.offline);
    else setStatus(state, text.status[state]);
  }

  function countDownTo(reconnectAt) {
    const left = reconnectAt - Date.now();
    if (left <= 0) return;  // The attempt is due: its own status follows.
    setStatus("reconnecting", text.status.offline);
    showCountdown(Math.ceil(left / 1000));
    countdownTimer = setTimeout(() => countDownTo(reconnectAt), Math.min(left, 1000));
  }

  // A new event's effect on the tiles and the alerts.
  function applyEvent(event) {
    countToday(event);
    if (event.action === "created") bumpTile("products", 1);
    if (event.action === "deleted") bumpTile("products", -1);
    const alerts = event.alerts;
    if (alerts) {
      alerts.cleared.forEach((condition) => {
        bumpTile(condition, -1);
        takeDown(event.product.id, condition);
      });
      alerts.entered.forEach((condition) => {
        bumpTile(condition, 1);
        raise(event, condition);
      });
      const after = alerts.conditions.length > 0;
      const before = alerts.conditions.length - alerts.entered.length + alerts.cleared.length > 0;
      if (after !== before) bumpCount(alertsCount, after ? 1 : -1);
    }
    const quantity = (event.changes || {}).quantity;
    const low = quantity && alertsList && findAlert(event.product.id, "low_stock");
    if (low && !(alerts && alerts.entered.includes("low_stock"))) {
      // Still low, with a new count: the alert says how many are left now.
      const detail = low.querySelector(".sm-alert-detail");
      if (detail) detail.textContent = fill(text.alerts.low_stock, { quantity: quantity.new });
    }
  }

  function bumpTile(name, delta) {
    const tile = root.querySelector(`[data-tile="${name}"]`);
    if (!tile) return;  // No tile counts it (expired), or an older override.
    const count = bumpCount(tile, delta);
    const value = tile.querySelector("[data-tile-value]");
    if (value) value.textContent = numbers.format(count) + (tile.dataset.more === "true" ? "+" : "");
    if (TONES[name]) {
      if (count > 0) tile.dataset.tone = TONES[name];
      else delete tile.dataset.tone;
    }
  }

  function bumpCount(node, delta) {
    if (!node) return 0;
    const count = Math.max(0, (Number(node.dataset.count) || 0) + delta);
    node.dataset.count = String(count);
    if (node === alertsCount) node.textContent = numbers.format(count);
    return count;
  }

  // "Changes today" counts in the site's day: past its end it starts again.
  function countToday(event) {
    const tile = root.querySelector('[data-tile="changes_today"]');
    if (!tile) return;
    rollDay(tile, Date.parse(event.time));
    bumpTile("changes_today", 1);
  }

  function rollDay(tile, moment) {
    let ends = Date.parse(tile.dataset.dayEnds);
    if (!Number.isFinite(ends) || !(moment >= ends)) return;
    while (moment >= ends) ends += DAY_MS;
    tile.dataset.dayEnds = new Date(ends).toISOString();
    tile.dataset.count = "0";
    tile.dataset.more = "false";
    bumpTile("changes_today", 0);
  }

  function findAlert(productId, condition) {
    if (!alertsList) return null;
    return [...alertsList.children].find(
      (item) => item.dataset.productId === String(productId) && item.dataset.condition === condition,
    ) || null;
  }

  // A stock alert raised live: at the top of the panel, read out at once
  // (role="alert"), until its condition clears or someone dismisses it.
  function raise(event, condition) {
    if (!alertsList || findAlert(event.product.id, condition)) return;
    const item = element("li", "sm-alert");
    item.dataset.level = DANGER.has(condition) ? "danger" : "warn";
    item.dataset.productId = String(event.product.id);
    item.dataset.condition = condition;
    const icon = root.querySelector("#sm-alerts-title svg");
    if (icon) item.append(icon.cloneNode(true));
    const body = element("div", "sm-alert-body");
    body.setAttribute("role", "alert");
    const title = element("span", "sm-alert-title");
    if (event.product.url) {
      const link = element("a", "", event.product.name);
      link.href = event.product.url;
      title.append(link);
    } else {
      title.textContent = event.product.name;
    }
    const words = text.alerts[condition] || condition;
    const detail = fill(words, { quantity: event.alerts.quantity, date: event.alerts.expiry_display });
    body.append(title, " ", element("span", "sm-alert-detail", detail));
    item.append(body, dismissForm(event.product, condition));
    alertsList.prepend(item);
    if (alertsEmpty) alertsEmpty.hidden = true;
  }

  function dismissForm(product, condition) {
    const form = element("form", "sm-alert-dismiss");
    form.method = "post";
    form.action = alertsList.dataset.dismissUrl;
    for (const [name, value] of [
      ["csrfmiddlewaretoken", alertsList.dataset.csrfToken],
      ["product", String(product.id)],
      ["condition", condition],
    ]) {
      const input = element("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    const button = element("button", "sm-button sm-button-secondary sm-button-small", text.dismiss);
    button.type = "submit";
    button.setAttribute("aria-label", fill(text.dismiss_label, { name: product.name }));
    form.append(button);
    return form;
  }

  function takeDown(productId, condition) {
    const item = findAlert(productId, condition);
    if (!item) return;
    // Keep keyboard focus in the panel when its button goes.
    const focused = item.contains(document.activeElement);
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    if (alertsEmpty) alertsEmpty.hidden = alertsList.children.length > 0;
    if (focused) {
      const target = next ? next.querySelector("button") : root.querySelector("#sm-alerts-title");
      if (target) {
        if (!next) target.tabIndex = -1;
        target.focus();
      }
    }
  }

  async function dismiss(submitted) {
    const form = submitted.target;
    submitted.preventDefault();
    const data = new FormData(form);
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": data.get("csrfmiddlewaretoken") || "" },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch {
      response = null;
    }
    // 409: it had cleared already; either way it is down for everyone.
    if (response && (response.ok || response.status === 409)) {
      takeDown(data.get("product"), data.get("condition"));
    } else {
      const button = form.querySelector("button");
      if (button) button.title = text.dismiss_failed;
      sayOlder(text.dismiss_failed);
    }
  }

  function tick() {
    for (const time of feed.querySelectorAll("time[datetime]")) {
      const words = ago(time.dateTime);
      if (words && time.textContent !== words) time.textContent = words;
    }
    const tile = root.querySelector('[data-tile="changes_today"]');
    if (tile) rollDay(tile, Date.now());
  }

  // "2 min. ago" in the page's language; null past a week (the full time then).
  function ago(iso) {
    const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
    const size = Math.abs(seconds);
    if (!Number.isFinite(seconds)) return null;
    if (size < 45) return relative.format(0, "second");
    if (size < 3600) return relative.format(Math.round(seconds / 60), "minute");
    if (size < DAY_MS / 1000) return relative.format(Math.round(seconds / 3600), "hour");
    if (size < 7 * DAY_MS / 1000) return relative.format(Math.round(seconds / 86400), "day");
    return null;
  }

  // The people the feed has shown, offered by the "Person" filter.
  function notePerson(actor) {
    if (!actorFilter || !actor || [...actorFilter.options].some((option) => option.value === actor)) return;
    const option = element("option", "", actor);
    option.value = actor;
    const after = [...actorFilter.options].slice(2).find((other) => other.value.localeCompare(actor, locale) > 0);
    actorFilter.insertBefore(option, after || null);
  }

  // The row it rendered. Each event comes once (the page's, the socket's
  // after them, older pages before the oldest shown), so none is shown twice.
  function add(event) {
    const row = render(event);
    // Newest first: insert before the first row with a smaller id.
    const next = [...feed.children].find((item) => Number(item.dataset.id) < event.id);
    feed.insertBefore(row, next || null);
    while (feed.children.length > capacity) {
      // "Load older changes" can bring it back.
      feed.lastElementChild.remove();
      hasOlder = true;
      showOlderButton();
    }
    return row;
  }

  // A change that just happened, read out once (unless filtered away);
  // older pages are not.
  function announce(row) {
    if (!announcer || row.hidden || !row.isConnected) return;
    const message = row.querySelector(".sm-feed-message");
    announcer.append(element("p", "", message ? message.textContent : ""));
    while (announcer.children.length > MAX_ANNOUNCEMENTS) announcer.firstElementChild.remove();
  }

  async function loadOlder() {
    const oldest = feed.lastElementChild;
    if (!oldest || loadingOlder) return;
    loadingOlder = true;
    sayOlder(text.loading_older);
    let page;
    try {
      const url = new URL(root.dataset.olderUrl, location.href);
      url.searchParams.set("before", oldest.dataset.id);
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      page = await response.json();
    } catch {
      sayOlder(text.older_failed);
      loadingOlder = false;
      return;
    }
    sayOlder("");
    capacity = Math.max(capacity, feed.children.length + page.events.length);
    page.events.forEach(add);
    applyFilters();
    hasOlder = page.more;
    loadingOlder = false;
    const focused = document.activeElement === olderButton;
    showOlderButton();
    // The button is gone: keep keyboard focus in the feed, not lost to <body>.
    if (focused && olderButton.hidden && oldest.nextElementSibling) {
      const first = oldest.nextElementSibling;
      first.tabIndex = -1;
      first.focus();
    }
  }

  function sayOlder(words) {
    if (olderStatus) olderStatus.textContent = words;  // An override may lack it.
  }

  function showOlderButton() {
    if (olderButton) olderButton.hidden = !(hasOlder && feed.children.length > 0);
  }

  // The same markup as includes/events.html renders on the server.
  function render(event) {
    const item = element("li", "sm-feed-item");
    item.dataset.id = String(event.id);
    item.dataset.action = event.action;
    item.dataset.actor = event.actor || "-";
    item.dataset.product = event.product.name.toLocaleLowerCase(locale);
    notePerson(event.actor);

    const avatar = element("span", event.actor ? "sm-avatar" : "sm-avatar sm-avatar-none", event.actor ? initials(event.actor) : "–");
    avatar.setAttribute("aria-hidden", "true");
    item.append(avatar);

    const meta = element("div", "sm-feed-meta");
    meta.append(element("span", "sm-feed-action", capfirst(text.actions[event.action] || event.action)));
    const actor = event.actor ? fill(text.by_actor, { actor: event.actor }) : text.by_nobody;
    meta.append(element("span", "sm-feed-actor", actor));
    // The server's one date format, in the site's time zone, as every page shows it.
    // Shown as "2 min. ago" (kept ticking), the full time on hover.
    const when = event.time_display || new Date(event.time).toLocaleString(locale);
    const time = element("time", "", ago(event.time) || when);
    time.dateTime = event.time;
    time.title = when;
    meta.append(time);
    meta.append(element("span", "sm-feed-id", `#${event.id}`));
    item.append(meta);

    // An update lists its fields below, so its line says only what happened;
    // the full sentence (with the diff inline) would repeat them.
    const fields = Object.entries(event.changes || {});
    const listed = event.action === "updated" && fields.length > 0;
    const template = text.headlines[event.action];
    const headline = template ? fill(template, { name: event.product.name }) : event.headline;
    const message = element("p", "sm-feed-message");
    if (event.product.url) {
      const link = element("a", "", headline);
      link.href = event.product.url;
      message.append(link);
    } else {
      message.textContent = headline;
    }
    item.append(message);

    if (listed) {
      const list = element("ul", "sm-feed-changes");
      for (const [field, change] of fields) {
        const label = capfirst(fieldLabels[field] || change.label || field.replaceAll("_", " "));
        const line = element("li");
        line.append(
          element("span", "sm-change-label", `${label}:`), " ",
          element("del", "sm-diff-old", value(field, change.old)), " ",
          element("span", "sm-diff-arrow", "→"), " ",
          element("ins", "sm-diff-new", value(field, change.new)),
        );
        list.append(line);
      }
      item.append(list);
    }
    return item;
  }

  // A value from a diff: money with the site's currency, empty as "—".
  function value(field, raw) {
    const shown = show(raw);
    if (!moneyFields.has(field) || shown === "—" || !Number.isFinite(Number(raw))) return shown;
    return currencyFormat.replace("{amount}", amounts.format(Number(raw)));
  }

  function capfirst(words) {
    return words ? words.charAt(0).toLocaleUpperCase(locale) + words.slice(1) : words;
  }

  function applyFilters() {
    for (const item of feed.children) filterRow(item);
    showEmpty();
  }

  function filterRow(item) {
    const shown = filters.some((box) => box.checked && box.value === item.dataset.action);
    const product = productFilter ? productFilter.value.trim().toLocaleLowerCase(locale) : "";
    const actor = actorFilter ? actorFilter.value : "";
    item.hidden = !shown
      || (product !== "" && !(item.dataset.product || "").includes(product))
      || (actor !== "" && item.dataset.actor !== actor);
  }

  function showEmpty() {
    empty.hidden = [...feed.children].some((item) => !item.hidden);
    empty.textContent = feed.children.length ? empty.dataset.filtered : empty.dataset.none;
  }

  function setStatus(state, words) {
    status.dataset.state = state;
    // Rewriting the same words would make some screen readers repeat them.
    if (status.textContent !== words) status.textContent = words;
  }

  function showCountdown(seconds) {
    if (!countdown) return;  // An older override may lack it.
    countdown.hidden = seconds === null;
    if (seconds !== null) {
      countdown.textContent = text.retry_in[Math.min(seconds, text.retry_in.length - 1)];
    }
  }
}

// The page's language for dates, if the browser knows the tag; else its own.
function supportedLocale(tag) {
  try {
    return tag ? Intl.DateTimeFormat.supportedLocalesOf([tag])[0] : undefined;
  } catch {
    return undefined;  // Not a well-formed language tag.
  }
}

// Up to two initials for an avatar: "Bea Brunner" → "BB", "staff" → "S".
function initials(name) {
  const words = String(name).match(/\p{L}+/gu) || [];
  if (!words.length) return (String(name).trim().charAt(0) || "?").toUpperCase();
  const letters = words[0].charAt(0) + (words.length > 1 ? words[words.length - 1].charAt(0) : "");
  return letters.toUpperCase();
}

function show(value) {
  return value === null || value === "" ? "—" : String(value);
}
