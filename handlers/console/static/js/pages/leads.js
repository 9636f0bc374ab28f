// Leads: search, filters, sort, cursor paging, live refresh and CSV export of the current filters.
// The filters live in the URL hash (#/leads?status=new...), so they survive a return to sign-in.
import { html, useState, useEffect } from "../ui.js";
import { request, listAll, queryString } from "../api.js";
import { subscribeLeadChanges } from "../live.js";
import { STATUSES, SOURCES, when, fullName, userName, toIso } from "../format.js";
import { TextField, SelectField, ErrorBanner } from "../widgets.js";
import { useCursorPages } from "../paging.js";
import { parseRoute } from "../router.js";

const FILTERS = ["q", "status", "source", "assignedTo", "tag", "scoreMin", "scoreMax", "createdAfter", "createdBefore", "sort"];
const SORTS = [
  ["-createdAt", "Newest first"], ["createdAt", "Oldest first"], ["-updatedAt", "Recently updated"],
  ["-score", "Highest score"], ["score", "Lowest score"], ["lastName", "Last name A–Z"], ["-lastName", "Last name Z–A"],
];
const PAGE_SIZE = 25;

function initialFilters() {
  const params = parseRoute().params;
  return Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""]));
}

// The API's query: datetime-local inputs become RFC 3339, empty values are left out.
export function apiFilters(filters) {
  const query = {};
  for (const name of FILTERS) {
    if (name === "sort" || !filters[name]) continue;
    query[name] = name.startsWith("created") ? toIso(filters[name]) : filters[name];
  }
  return query;
}

export function LeadsPage() {
  const [filters, setFilters] = useState(initialFilters);
  const [applied, setApplied] = useState(filters);
  const [users, setUsers] = useState([]);
  const [liveNote, setLiveNote] = useState("");
  const { page, error, setError, load, onFirstPage, restart, pager } = useCursorPages(
    (cursor) => request("GET", "/leads", { query: { ...apiFilters(applied), sort: applied.sort || undefined, limit: PAGE_SIZE, cursor } }),
    [applied],
  );

  useEffect(() => { listAll("/users").then((all) => setUsers(all.items)).catch(() => setUsers([])); }, []);
  useEffect(() => subscribeLeadChanges(() => {
    if (onFirstPage) {
      load();
      setLiveNote(`List updated at ${new Date().toLocaleTimeString()}`);
    } else {
      setLiveNote("Leads changed since this page was loaded: go back to the first page to see them.");
    }
  }), [load, onFirstPage]);

  function apply(event) {
    event.preventDefault();
    setApplied({ ...filters });
    restart();
    const kept = Object.fromEntries(Object.entries(filters).filter(([, value]) => value));
    history.replaceState(null, "", `#/leads${queryString(kept)}`);
  }

  function reset() {
    const empty = Object.fromEntries(FILTERS.map((name) => [name, ""]));
    setFilters(empty);
    setApplied(empty);
    restart();
    history.replaceState(null, "", "#/leads");
  }

  async function exportCsv() {
    try {
      const response = await request("GET", "/leads/export", { query: apiFilters(applied), raw: true });
      const blob = await response.blob();
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "leads.csv";
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (exc) {
      setError(exc);
    }
  }

  const set = (name) => (value) => setFilters({ ...filters, [name]: value });
  const userOptions = [["", "Anyone"], ...users.map((user) => [user.id, user.name])];
  return html`<h1>Leads</h1>
    <form class="filters" onSubmit=${apply} aria-label="Lead filters">
      <${TextField} label="Search" type="search" value=${filters.q} onInput=${set("q")} maxlength="200" />
      <${SelectField} label="Status filter" value=${filters.status} onChange=${set("status")}
        options=${[["", "Any status"], ...STATUSES.map((s) => [s, s])]} />
      <${SelectField} label="Source filter" value=${filters.source} onChange=${set("source")}
        options=${[["", "Any source"], ...SOURCES.map((s) => [s, s])]} />
      <${SelectField} label="Assignee filter" value=${filters.assignedTo} onChange=${set("assignedTo")} options=${userOptions} />
      <${TextField} label="Tag" value=${filters.tag} onInput=${set("tag")} maxlength="50" />
      <${TextField} label="Score from" type="number" min="0" max="100" value=${filters.scoreMin} onInput=${set("scoreMin")} />
      <${TextField} label="Score to" type="number" min="0" max="100" value=${filters.scoreMax} onInput=${set("scoreMax")} />
      <${TextField} label="Created from" type="datetime-local" value=${filters.createdAfter} onInput=${set("createdAfter")} />
      <${TextField} label="Created before" type="datetime-local" value=${filters.createdBefore} onInput=${set("createdBefore")} />
      <${SelectField} label="Sort" value=${filters.sort || "-createdAt"} onChange=${set("sort")} options=${SORTS} />
      <div class="actions">
        <button type="submit" class="primary">Apply filters</button>
        <button type="button" onClick=${reset}>Clear</button>
        <button type="button" onClick=${exportCsv}>Export CSV</button>
      </div>
    </form>
    <${ErrorBanner} error=${error} />
    <p class="live" role="status" aria-live="polite">${liveNote || "Live: new and changed leads appear by themselves."}</p>
    <div class="table-wrap">
      <table class="leads">
        <caption class="visually-hidden">Leads matching the filters</caption>
        <thead><tr>
          <th scope="col">Email</th><th scope="col">Name</th><th scope="col">Company</th><th scope="col">Status</th>
          <th scope="col">Score</th><th scope="col">Assignee</th><th scope="col">Source</th><th scope="col">Created</th>
        </tr></thead>
        <tbody>
          ${page.items.map((lead) => html`<tr key=${lead.id} data-lead-id=${lead.id}>
            <td><a href=${`#/leads/${encodeURIComponent(lead.id)}`}>${lead.email}</a></td>
            <td>${fullName(lead)}</td>
            <td>${lead.company || ""}</td>
            <td><span class=${`status status-${lead.status}`}>${lead.status}</span></td>
            <td>${lead.score}</td>
            <td>${userName(users, lead.assignedTo)}</td>
            <td>${lead.source}</td>
            <td>${when(lead.createdAt)}</td>
          </tr>`)}
        </tbody>
      </table>
      ${page.items.length === 0 && !error ? html`<p class="empty">No leads match.</p>` : null}
    </div>
    ${pager}`;
}
