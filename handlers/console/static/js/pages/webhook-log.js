// One endpoint's delivery log: deliveries newest first (filter by status, cursor paging), each
// with every attempt (time, status code, duration, error, the first 1 KB of the response, next
// attempt), and replay: the selected deliveries' events, or every subscribed event since a time.
import { html, useState } from "../ui.js";
import { request } from "../api.js";
import { when, toIso } from "../format.js";
import { ErrorBanner, Notice, uid } from "../widgets.js";
import { useCursorPages } from "../paging.js";

const SESSION = { scope: "session" };

function Attempts({ attempts }) {
  if (!attempts.length) return html`<p class="empty">No attempt yet.</p>`;
  return html`<table class="attempts">
    <caption class="visually-hidden">Attempts</caption>
    <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Status code</th><th scope="col">Duration</th>
      <th scope="col">Error</th><th scope="col">Response (first 1 KB)</th><th scope="col">Next attempt</th></tr></thead>
    <tbody>${attempts.map((attempt, index) => html`<tr key=${index} class="attempt">
      <td>${index + 1}</td><td>${when(attempt.attemptedAt)}</td><td>${attempt.statusCode ?? "no response"}</td>
      <td>${attempt.durationMs} ms</td><td>${attempt.error ?? "—"}</td>
      <td>${attempt.responseBody ? html`<pre class="response">${attempt.responseBody}</pre>` : "—"}</td>
      <td>${when(attempt.nextAttemptAt) || "—"}</td></tr>`)}</tbody>
  </table>`;
}

function Delivery({ delivery, selected, onSelect }) {
  const [id] = useState(() => uid("delivery"));
  return html`<li class=${`delivery delivery-${delivery.status}`} data-delivery-id=${delivery.id} data-event-id=${delivery.eventId}>
    <div class="delivery-head">
      <input type="checkbox" id=${id} checked=${selected} onChange=${(event) => onSelect(event.currentTarget.checked)} />
      <label for=${id}>Select event ${delivery.eventId}</label>
      <span class="event-type">${delivery.eventType ?? "(event gone)"}</span>
      <span class=${`status delivery-status`}>${delivery.status}</span>
      <span class="meta">${delivery.attemptCount} attempt${delivery.attemptCount === 1 ? "" : "s"} · queued ${when(delivery.createdAt)}
        ${delivery.finishedAt ? ` · finished ${when(delivery.finishedAt)}` : ""}${delivery.nextAttemptAt ? ` · next attempt ${when(delivery.nextAttemptAt)}` : ""}</span>
    </div>
    <${Attempts} attempts=${delivery.attempts} />
  </li>`;
}

export function DeliveryLog({ endpoint }) {
  const [status, setStatus] = useState("");
  const [selected, setSelected] = useState([]);
  const [since, setSince] = useState("");
  const [notice, setNotice] = useState("");
  const [statusId] = useState(() => uid("log-status"));
  const [sinceId] = useState(() => uid("log-since"));
  const base = `/webhook-endpoints/${encodeURIComponent(endpoint.id)}`;
  const { page, error, setError, load, restart, pager } = useCursorPages(
    (cursor) => request("GET", `${base}/deliveries`, { ...SESSION, query: { status, limit: 20, cursor } }),
    [base, status],
  );

  async function replay(body, what) {
    setError(null);
    setNotice("");
    try {
      const reply = await request("POST", `${base}/replay`, { ...SESSION, body });
      setNotice(`${what}: ${reply.data.queued} deliver${reply.data.queued === 1 ? "y" : "ies"} queued.`);
      setSelected([]);
      await load();
    } catch (exc) {
      setError(exc);
    }
  }

  const select = (eventId) => (on) => setSelected(on ? [...new Set([...selected, eventId])] : selected.filter((id) => id !== eventId));
  return html`<section class="delivery-log" aria-label=${`Delivery log of ${endpoint.url}`}>
    <h4>Delivery log</h4>
    <${ErrorBanner} error=${error} />
    <${Notice} text=${notice} />
    <div class="actions">
      <label for=${statusId}>Delivery status</label>
      <select id=${statusId} value=${status} onChange=${(event) => { setStatus(event.currentTarget.value); restart(); }}>
        <option value="">All</option><option value="pending">Pending</option>
        <option value="succeeded">Succeeded</option><option value="failed">Failed</option>
      </select>
      <button type="button" onClick=${() => load()}>Refresh log</button>
    </div>
    <div class="actions">
      <button type="button" disabled=${!selected.length}
        onClick=${() => replay({ eventIds: selected }, "Replay")}>Replay selected events (${selected.length})</button>
      <label for=${sinceId}>Replay since</label>
      <input id=${sinceId} class="narrow" type="datetime-local" value=${since} onInput=${(event) => setSince(event.currentTarget.value)} />
      <button type="button" disabled=${!toIso(since)} onClick=${() => replay({ since: toIso(since) }, "Replay since")}>Replay every event since then</button>
    </div>
    ${page.loaded && !page.items.length ? html`<p class="empty">No deliveries${status ? ` with status ${status}` : ""}.</p>` : null}
    <ol class="deliveries">${page.items.map((delivery) => html`<${Delivery} key=${delivery.id} delivery=${delivery}
      selected=${selected.includes(delivery.eventId)} onSelect=${select(delivery.eventId)} />`)}</ol>
    ${pager}
  </section>`;
}
