// "Something changed in the leads": the one function pages subscribe to for live updates.
//
// It polls the event feed, GET /v1/events?since=<a short window back>, every few seconds while
// the tab is visible: the feed has every change by any path (API, capture, import, another
// user), deletions and merges included, which a list poll cannot see. `since` is inclusive and
// taken from the server's clock (meta.timestamp of the previous answer) minus WINDOW_MS, so an
// event whose transaction committed just after a poll is still caught on the next one; event ids
// already seen are skipped. The first poll reports the lead events of the window too: the page's
// own first load may have been answered before one of them committed (one extra reload at most).
//
// If the feed is refused (403: a key without read:leads on events, 404: a server without it), it
// falls back to polling GET /v1/leads?sort=-updatedAt&limit=1 (one indexed row: creates and
// updates only).
import { request } from "./api.js";

export const POLL_MS = 3000;
const WINDOW_MS = 30_000;
const LEAD_EVENTS = /^(lead\.|import\.completed$)/;

function feedPoller() {
  let serverNow = null; // meta.timestamp of the last answer: the server's clock
  const seen = new Map(); // event id -> createdAt (ms), pruned to the window
  return async function poll() {
    const since = new Date((serverNow ?? Date.now()) - WINDOW_MS).toISOString();
    const page = await request("GET", "/events", { query: { since, limit: 100 } });
    serverNow = Date.parse(page.meta.timestamp) || Date.now();
    let changed = page.meta.pagination.hasMore; // more than a page in the window: surely a change
    for (const event of page.data) {
      if (seen.has(event.id)) continue;
      seen.set(event.id, Date.parse(event.createdAt));
      if (LEAD_EVENTS.test(event.type)) changed = true;
    }
    for (const [id, at] of seen) if (at < serverNow - 2 * WINDOW_MS) seen.delete(id);
    return changed;
  };
}

function listPoller() {
  let last = null;
  return async function poll() {
    const page = await request("GET", "/leads", { query: { sort: "-updatedAt", limit: 1 } });
    const top = page.data[0];
    const mark = top ? `${top.id}@${top.updatedAt}` : "";
    // The first poll reports too: what changed between the page's load and the switch to this
    // fallback is not known.
    const report = mark !== last;
    last = mark;
    return report;
  };
}

export function subscribeLeadChanges(onChange) {
  let stopped = false;
  let timer = null;
  let poll = feedPoller();
  let usingFeed = true;
  async function tick() {
    if (stopped) return;
    if (document.visibilityState === "visible") {
      try {
        if ((await poll()) && !stopped) onChange();
      } catch (exc) {
        if (usingFeed && (exc.status === 403 || exc.status === 404)) {
          usingFeed = false;
          poll = listPoller();
          timer = setTimeout(tick, 0);
          return;
        }
        /* a failed poll is retried on the next tick; a 401 signs out via the API client */
      }
    }
    if (!stopped) timer = setTimeout(tick, POLL_MS);
  }
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
