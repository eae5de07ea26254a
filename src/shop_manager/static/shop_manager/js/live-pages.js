// The product list, a product's page and its edit form, kept current while
// open. They follow the dashboard's socket (live-socket.js); a frame only says
// which product changed and who changed it. The page then asks the server for
// itself again, rendered for this reader (permissions, costs, language), and
// takes over the parts that changed: nothing jumps, scroll and typing stay.
// Every word comes translated from the page (the sm-live-strings json_script),
// and is written with textContent.

import { element, fetchPage, fill, followChanges } from "./live-socket.js";

// Changes that arrive together are handled together.
const SETTLE_MS = 150;
// As shop_manager.live_pages.MAX_LIVE_IDS.
const MAX_LIVE_IDS = 100;

const root = document.querySelector("[data-shop-manager-live]");
const strings = document.getElementById("sm-live-strings");
if (root && root.dataset.socketPath && strings) {
  const text = JSON.parse(strings.textContent);
  const start = { list: startList, detail: startDetail, edit: startEdit }[root.dataset.shopManagerLive];
  if (start) start(root, text);
}

// Calls `handle(events)` with the changes that arrived since it last ran
// (the latest event per product, in arrival order), one run at a time.
function settled(handle) {
  let pending = new Map();
  let timer = null;
  let running = false;
  async function run() {
    timer = null;
    if (running) return;
    running = true;
    const keys = [...pending.keys()].slice(0, MAX_LIVE_IDS);
    const batch = new Map(keys.map((key) => [key, pending.get(key)]));
    keys.forEach((key) => pending.delete(key));
    try {
      const done = await handle(batch);
      // Not handled (the server could not be reached): asked again with the next.
      if (done === false) {
        for (const [key, event] of batch) if (!pending.has(key)) pending.set(key, event);
      }
    } finally {
      running = false;
      if (pending.size && !timer) timer = setTimeout(run, SETTLE_MS);
    }
  }
  return (event) => {
    pending.delete(event.product.id);
    pending.set(event.product.id, event);
    if (!timer && !running) timer = setTimeout(run, SETTLE_MS);
  };
}

function follow(root, text, onEvent, extra = {}) {
  const status = root.querySelector("[data-live-status]");
  followChanges({
    ...extra,
    path: root.dataset.socketPath,
    after: root.dataset.lastId,
    onEvent,
    onStatus(state) {
      if (!status) return;
      status.hidden = false;
      status.dataset.state = state;
      const words = text.status[state];
      if (status.textContent !== words) status.textContent = words;
    },
  });
}

function actorOf(event, text, withActor, without) {
  return event.actor ? fill(text[withActor], { actor: event.actor }) : text[without];
}

// A short highlight; the note beside it says what happened for good.
function flash(node) {
  node.classList.remove("sm-live-flash");
  void node.offsetWidth;  // Restart the animation on a node flashed before.
  node.classList.add("sm-live-flash");
  // Without motion there is no animation to end: taken off after as long.
  clearTimeout(node.smFlashTimer);
  node.smFlashTimer = setTimeout(() => node.classList.remove("sm-live-flash"), 2000);
}

// The list -------------------------------------------------------------------

function startList(root, text) {
  const notice = root.querySelector("[data-live-notice]");
  const fresh = new Map();  // New products that match, by id: their event's product.

  const onChange = settled(refresh);
  follow(root, text, (event) => {
    // Only a product shown here, or a new one that may match, needs the page
    // again; for any other change the answer would be thrown away (and with a
    // thousand lists open, every change would cost a thousand page requests).
    const pk = event.product.id;
    if (event.action === "created" || fresh.has(pk) || rowOf(pk)) onChange(event);
  });
  notice.querySelector("[data-live-show]").addEventListener("click", showAll);

  async function refresh(events) {
    const url = new URL(location.href);
    url.searchParams.set("live_ids", [...events.keys()].join(","));
    const { doc } = await fetchPage(url);
    if (!doc) return false;
    const rows = new Map([...doc.querySelectorAll("tr[data-product-id]")].map((row) => [Number(row.dataset.productId), row]));
    const pages = JSON.parse(doc.getElementById("sm-live-pages")?.textContent || "{}");
    for (const [pk, event] of events) {
      const row = rowOf(pk);
      if (event.action === "deleted") {
        fresh.delete(pk);
        if (row) markDeleted(row, event);
      } else if (row && row.dataset.deleted !== "true") {
        updateRow(row, rows.get(pk), pages[pk], event, rows);
      } else if (!row && event.action === "created" && pages[pk]) {
        fresh.set(pk, event.product);
      }
    }
    showNotice();
    return true;
  }

  function rowOf(pk) {
    return root.querySelector(`tr[data-product-id="${pk}"]`);
  }

  function updateRow(row, freshRow, page, event, freshRows) {
    let current = row;
    if (freshRow) {
      if (freshRow.dataset.version !== row.dataset.version) {
        current = document.importNode(freshRow, true);
        row.replaceWith(current);
      }
      current.classList.remove("sm-row-stale");
      note(current, actorOf(event, text, "changed_by", "changed"));
      if (movedAmong(current, freshRows)) {
        current.dataset.moved = "true";
        note(current, text.moved, true);
      } else {
        delete current.dataset.moved;
      }
    } else {
      // Still shown where it was, with what it said: the note tells why.
      current.classList.add("sm-row-stale");
      note(current, page ? fill(text.moved_page, { page }) : text.unlisted, true);
    }
    flash(current);
  }

  // Whether `row` now sorts elsewhere among the rows both pages show (rows
  // already said to have moved left out, so one move is not blamed on others).
  function movedAmong(row, freshRows) {
    const shown = [...root.querySelectorAll("tr[data-product-id]")]
      .filter((other) => other === row || (!other.dataset.moved && other.dataset.deleted !== "true"))
      .map((other) => Number(other.dataset.productId))
      .filter((pk) => freshRows.has(pk));
    const common = new Set(shown);
    const order = [...freshRows.keys()].filter((pk) => common.has(pk));
    const pk = Number(row.dataset.productId);
    return shown.indexOf(pk) !== order.indexOf(pk);
  }

  function markDeleted(row, event) {
    row.dataset.deleted = "true";
    row.classList.add("sm-row-deleted");
    for (const link of row.querySelectorAll("a")) link.replaceWith(element("span", "", link.textContent));
    note(row, actorOf(event, text, "deleted_by", "deleted"), true);
    flash(row);
  }

  // One note per row, in its first cell; `lasting` ones stay after the flash.
  function note(row, words, lasting = false) {
    const cell = row.cells[0];
    let span = cell.querySelector("[data-live-note]");
    if (!span) {
      span = element("span", "sm-row-note");
      span.dataset.liveNote = "";
      cell.append(span);
    }
    span.textContent = words;
    span.dataset.lasting = lasting ? "true" : "false";
  }

  function showNotice() {
    if (!fresh.size) {
      notice.hidden = true;
      return;
    }
    const forms = text.new_products;
    notice.querySelector("[data-live-count]").textContent = fill(forms[Math.min(fresh.size, forms.length - 1)], { count: fresh.size });
    const names = notice.querySelector("[data-live-names]");
    names.replaceChildren();
    [...fresh.values()].forEach((product, index) => {
      if (index) names.append(", ");
      const link = element("a", "", product.name);
      link.href = product.url;
      names.append(link);
    });
    notice.hidden = false;
  }

  // The list as it stands now, asked for: the results and the count are
  // taken over, the search form (and whatever is typed in it) is not.
  async function showAll() {
    const { doc } = await fetchPage(location.href);
    if (!doc) return;
    const added = new Set(fresh.keys());
    for (const part of root.querySelectorAll("[data-live-part]")) {
      const replacement = doc.querySelector(`[data-live-part="${part.dataset.livePart}"]`);
      if (replacement) part.replaceWith(document.importNode(replacement, true));
    }
    for (const pk of added) {
      const row = rowOf(pk);
      if (row) {
        row.classList.add("sm-row-new");
        flash(row);
      }
    }
    fresh.clear();
    showNotice();
  }
}

// A product's page --------------------------------------------------------------

function startDetail(root, text) {
  const pk = Number(root.dataset.productId);
  const banner = root.querySelector("[data-live-banner]");

  const onChange = settled(async (events) => {
    const event = events.get(pk);
    if (event.action === "deleted") {
      banner.textContent = actorOf(event, text, "product_deleted", "product_deleted_nobody");
      banner.hidden = false;
      root.dataset.deleted = "true";
      return true;
    }
    // A renamed product keeps its slug, so this address.
    const { doc } = await fetchPage(location.pathname + location.search);
    if (!doc) return false;
    for (const part of root.querySelectorAll("[data-live-part]")) {
      const replacement = doc.querySelector(`[data-live-part="${part.dataset.livePart}"]`);
      if (!replacement || replacement.isEqualNode(part)) continue;
      const taken = document.importNode(replacement, true);
      part.replaceWith(taken);
      flash(taken);
    }
    const title = doc.querySelector("title");
    if (title) document.title = title.textContent;
    return true;
  });
  follow(root, text, (event) => {
    if (event.product.id === pk) onChange(event);
  });
}

// The edit form ---------------------------------------------------------------

function startEdit(root, text) {
  const pk = Number(root.dataset.productId);
  const form = root.querySelector("form[data-live-form]");
  const banner = root.querySelector("[data-live-banner]");
  if (!form) return;  // The conflict page: its choices are made by hand.
  // Each field's value as last saved, as far as this page knows: a field
  // still holding it is untouched, and takes a newer saved value at once.
  const saved = new Map();
  for (const field of form.elements) {
    if (field.name && field.type !== "hidden") saved.set(field.name, field.value);
  }

  const editors = root.querySelector("[data-live-editors]");
  const onEvent = (event) => {
    if (event.product.id !== pk) return;
    if (event.action === "deleted") {
      banner.textContent = actorOf(event, text, "product_deleted", "product_deleted_nobody");
      banner.hidden = false;
    } else if (event.action === "updated") {
      Object.entries(event.changes || {}).forEach(([name, change]) => mark(name, change, event));
    }
  };
  // Who else has this form open: the server keeps saying so while the socket
  // is open, so this page sends nothing more than its hello.
  follow(root, text, onEvent, {
    hello: { type: "presence", product: pk },
    onFrame(frame) {
      if (frame.type !== "presence" || frame.product !== pk || !editors) return;
      const names = frame.editors;
      const forms = text.editing;
      const words = names.length ? fill(forms[Math.min(names.length, forms.length - 1)], { names: names.join(", ") }) : "";
      editors.hidden = !names.length;
      if (editors.textContent !== words) editors.textContent = words;
    },
  });

  function mark(name, change, event) {
    const field = form.elements.namedItem(name);
    if (!field || !saved.has(name)) return;  // Not on this form (a cost field).
    const value = change.new === null || change.new === undefined ? "" : String(change.new);
    const shown = value === "" ? text.empty : value;
    const untouched = field.value === saved.get(name);
    saved.set(name, value);
    let words;
    if (untouched) {
      field.value = value;
      words = event.actor ? fill(text.saved_by, { actor: event.actor, value: shown }) : fill(text.saved_by_nobody, { value: shown });
    } else {
      words = event.actor ? fill(text.saved_kept, { actor: event.actor, value: shown }) : fill(text.saved_kept_nobody, { value: shown });
    }
    const box = field.closest(".sm-field") || field.parentElement;
    box.dataset.liveChanged = untouched ? "taken" : "kept";
    let line = box.querySelector("[data-live-field-note]");
    if (!line) {
      line = element("p", "sm-live-field-note");
      line.dataset.liveFieldNote = "";
      line.id = `${field.id || name}_live`;
      line.setAttribute("role", "status");
      box.append(line);
      const described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", described ? `${described} ${line.id}` : line.id);
    }
    line.textContent = words;
    flash(box);
  }
}
