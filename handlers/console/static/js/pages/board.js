// The pipeline board: a column per status with its count; move a lead by dragging its card or,
// from the keyboard, with the card's "Move to" control. Each move is one PATCH of `status`.
import { html, useState, useEffect, useCallback } from "../ui.js";
import { request, listAll } from "../api.js";
import { subscribeLeadChanges } from "../live.js";
import { STATUSES, fullName } from "../format.js";
import { ErrorBanner } from "../widgets.js";

const PER_COLUMN = 200;

function Card({ lead, onMove }) {
  const label = fullName(lead) || lead.email;
  return html`<li class="card" draggable="true" data-lead-id=${lead.id}
    onDragStart=${(event) => { event.dataTransfer.setData("text/plain", lead.id); event.dataTransfer.effectAllowed = "move"; }}>
    <a href=${`#/leads/${encodeURIComponent(lead.id)}`} class="card-title">${label}</a>
    <span class="card-line">${lead.email}</span>
    ${lead.company ? html`<span class="card-line">${lead.company}</span>` : null}
    <span class="card-line">Score ${lead.score}</span>
    <label class="move">
      <span>Move ${label} to</span>
      <select value=${lead.status} onChange=${(event) => onMove(lead, event.currentTarget.value)}>
        ${STATUSES.map((status) => html`<option value=${status}>${status}</option>`)}
      </select>
    </label>
  </li>`;
}

export function BoardPage() {
  const [columns, setColumns] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState("");
  const [over, setOver] = useState(null);

  const load = useCallback(async () => {
    try {
      const lists = await Promise.all(STATUSES.map((status) => listAll("/leads", { status }, {}, PER_COLUMN)));
      setColumns(Object.fromEntries(STATUSES.map((status, index) => [status, lists[index]])));
      setError(null);
    } catch (exc) {
      setError(exc);
    }
  }, []);

  useEffect(() => { load(); }, [load]);
  useEffect(() => subscribeLeadChanges(load), [load]);

  async function move(lead, status) {
    if (lead.status === status) return;
    try {
      await request("PATCH", `/leads/${encodeURIComponent(lead.id)}`, { body: { status } });
      setNote(`${fullName(lead) || lead.email} moved to ${status}.`);
      await load();
    } catch (exc) {
      setError(exc);
    }
  }

  function findLead(id) {
    for (const status of STATUSES) {
      const lead = columns[status].items.find((item) => item.id === id);
      if (lead) return lead;
    }
    return null;
  }

  function drop(event, status) {
    event.preventDefault();
    setOver(null);
    const lead = findLead(event.dataTransfer.getData("text/plain"));
    if (lead) move(lead, status);
  }

  return html`<h1>Pipeline</h1>
    <${ErrorBanner} error=${error} />
    <p class="live" role="status" aria-live="polite">${note || "Drag a card to another column, or use its “Move to” control."}</p>
    ${columns === null ? html`<p>Loading…</p>` : html`<div class="board">
      ${STATUSES.map((status) => {
        const column = columns[status];
        const count = `${column.items.length}${column.complete ? "" : "+"}`;
        return html`<section class=${over === status ? "column over" : "column"} aria-labelledby=${`col-${status}`}
          data-status=${status}
          onDragOver=${(event) => { event.preventDefault(); setOver(status); }}
          onDragLeave=${() => setOver(null)}
          onDrop=${(event) => drop(event, status)}>
          <h2 id=${`col-${status}`}>${status} <span class="count" aria-label=${`${count} leads`}>${count}</span></h2>
          <ul>${column.items.map((lead) => html`<${Card} key=${lead.id} lead=${lead} onMove=${move} />`)}</ul>
        </section>`;
      })}
    </div>`}`;
}
