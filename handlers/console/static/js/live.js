// "Something changed in the leads": the one function pages subscribe to for live updates.
//
// Today it polls GET /v1/leads?sort=-updatedAt&limit=1 -- one indexed row -- every few seconds
// while the tab is visible, and reports when the newest change differs from the last one seen
// (a create or an update by any path: API, capture, import, another user). When the event feed
// (GET /v1/events) lands, only this function changes: poll the feed from its cursor instead.
import { request } from "./api.js";

export const POLL_MS = 3000;

export function subscribeLeadChanges(onChange) {
  let last = null;
  let stopped = false;
  let timer = null;
  async function tick() {
    if (stopped) return;
    if (document.visibilityState === "visible") {
      try {
        const page = await request("GET", "/leads", { query: { sort: "-updatedAt", limit: 1 } });
        const top = page.data[0];
        const mark = top ? `${top.id}@${top.updatedAt}` : "";
        if (last !== null && mark !== last && !stopped) onChange();
        last = mark;
      } catch {
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
