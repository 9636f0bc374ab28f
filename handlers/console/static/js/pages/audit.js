// Audit log: filters (action, actor, resource, time range), newest first, cursor paging.
import { html, useState } from "../ui.js";
import { request } from "../api.js";
import { when, show, toIso } from "../format.js";
import { TextField, SelectField, ErrorBanner } from "../widgets.js";
import { useCursorPages } from "../paging.js";

const EMPTY = { action: "", actorId: "", resourceType: "", resourceId: "", since: "", until: "" };

function queryOf(filters) {
  return { ...filters, since: toIso(filters.since), until: toIso(filters.until) };
}

export function AuditPage() {
  const [filters, setFilters] = useState(EMPTY);
  const [applied, setApplied] = useState(EMPTY);
  const set = (name) => (value) => setFilters({ ...filters, [name]: value });
  const { page, error, restart, pager } = useCursorPages(
    (cursor) => request("GET", "/audit-events", { scope: "session", query: { ...queryOf(applied), limit: 25, cursor } }),
    [applied],
  );

  return html`<h1>Audit log</h1>
    <form class="filters" aria-label="Audit filters" onSubmit=${(event) => { event.preventDefault(); setApplied(filters); restart(); }}>
      <${TextField} label="Action" value=${filters.action} onInput=${set("action")} placeholder="lead.created" />
      <${TextField} label="Actor id" value=${filters.actorId} onInput=${set("actorId")} />
      <${SelectField} label="Resource type" value=${filters.resourceType} onChange=${set("resourceType")}
        options=${[["", "Any"], ["lead", "lead"], ["api_key", "api_key"], ["user", "user"], ["tenant", "tenant"]]} />
      <${TextField} label="Resource id" value=${filters.resourceId} onInput=${set("resourceId")} />
      <${TextField} label="Since" type="datetime-local" value=${filters.since} onInput=${set("since")} />
      <${TextField} label="Until" type="datetime-local" value=${filters.until} onInput=${set("until")} />
      <div class="actions"><button type="submit" class="primary">Apply filters</button>
        <button type="button" onClick=${() => { setFilters(EMPTY); setApplied(EMPTY); restart(); }}>Clear</button></div>
    </form>
    <${ErrorBanner} error=${error} />
    <div class="table-wrap"><table class="audit">
      <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">On behalf of</th>
        <th scope="col">Resource</th><th scope="col">Changes</th><th scope="col">IP</th></tr></thead>
      <tbody>${page.items.map((event) => html`<tr key=${event.id}>
        <td>${when(event.occurredAt)}</td><td>${event.action}</td><td>${event.actor.type} ${event.actor.id}</td>
        <td>${event.onBehalfOf || ""}</td><td>${event.resourceType} ${event.resourceId}</td>
        <td>${Object.entries(event.changes).map(([field, [before, after]]) => html`<div key=${field}>${field}: ${show(before)} → ${show(after)}</div>`)}</td>
        <td>${event.ip || ""}</td></tr>`)}</tbody>
    </table></div>
    ${page.items.length === 0 && !error ? html`<p class="empty">No events match.</p>` : null}
    ${pager}`;
}
