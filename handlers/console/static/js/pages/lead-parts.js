// The lead page's lower half: the history timeline and the duplicates with their Merge action.
import { html, useState, useEffect } from "../ui.js";
import { request, listAll } from "../api.js";
import { fullName, when, show, userName } from "../format.js";
import { ErrorBanner, ConfirmButton } from "../widgets.js";
import { mayOpen } from "../session.js";

function actorText(actor, users, keys) {
  if (actor.type === "user") return `${userName(users, actor.id)} (user)`;
  const key = keys.find((candidate) => candidate.id === actor.id);
  return key ? `API key “${key.name}”` : `API key ${actor.id}`;
}

// Key names for the timeline, where the role may list keys (the API refuses the others).
function useKeyNames() {
  const [keys, setKeys] = useState([]);
  useEffect(() => {
    if (mayOpen("integrations")) listAll("/api-keys", {}, { scope: "session" }).then((all) => setKeys(all.items)).catch(() => {});
  }, []);
  return keys;
}

export function History({ lead, users, version }) {
  const [events, setEvents] = useState(null);
  const [error, setError] = useState(null);
  const keys = useKeyNames();
  useEffect(() => {
    listAll(`/leads/${encodeURIComponent(lead.id)}/history`, {}, {}, 300)
      .then((all) => { setEvents(all.items); setError(null); })
      .catch(setError);
  }, [lead.id, version]);
  return html`<section class="history" aria-labelledby="history-title">
    <h2 id="history-title">History</h2>
    <${ErrorBanner} error=${error} />
    ${events === null ? html`<p>Loading…</p>` : html`<ol class="timeline">
      ${events.map((event) => html`<li key=${event.id}>
        <p class="event-head"><strong>${event.action}</strong>
          <span> by ${actorText(event.actor, users, keys)}</span>
          ${event.onBehalfOf ? html`<span> on behalf of ${userName(users, event.onBehalfOf)}</span>` : null}
          <span> · <time datetime=${event.occurredAt}>${when(event.occurredAt)}</time></span></p>
        ${Object.keys(event.changes).length ? html`<table class="changes">
          <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
          <tbody>${Object.entries(event.changes).map(([field, [before, after]]) => html`<tr key=${field}>
            <th scope="row">${field}</th><td>${show(before)}</td><td>${show(after)}</td></tr>`)}</tbody>
        </table>` : null}
      </li>`)}
    </ol>`}
  </section>`;
}

export function Duplicates({ lead, version, onMerged }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    listAll(`/leads/${encodeURIComponent(lead.id)}/duplicates`, {}, {}, 100)
      .then((all) => { setItems(all.items); setError(null); })
      .catch(setError);
  }, [lead.id, version]);

  async function merge(source) {
    try {
      await request("POST", `/leads/${encodeURIComponent(lead.id)}/merge`, { body: { sourceIds: [source.id] } });
      onMerged(`Merged ${source.email} into this lead.`);
    } catch (exc) {
      setError(exc);
    }
  }

  return html`<section class="duplicates" aria-labelledby="dup-title">
    <h2 id="dup-title">Duplicates</h2>
    <${ErrorBanner} error=${error} />
    ${items === null ? html`<p>Loading…</p>` : items.length === 0
      ? html`<p class="empty">No duplicates detected (detection runs in the background after each change).</p>`
      : html`<ul class="dup-list">${items.map(({ lead: other, reasons, detectedAt }) => html`<li key=${other.id} data-lead-id=${other.id}>
          <a href=${`#/leads/${encodeURIComponent(other.id)}`}>${fullName(other)} · ${other.email}</a>
          <span> — matches on ${reasons.map((reason) => reason.replace("_", " + ")).join(", ")}, found ${when(detectedAt)}</span>
          <${ConfirmButton} label=${`Merge ${other.email}`} confirmLabel="Yes, merge it into this lead" onConfirm=${() => merge(other)} />
        </li>`)}</ul>`}
  </section>`;
}
