// Lead detail: every field, edited in place (one PATCH of what changed; a 422 shows each
// field's error beside it), status, assignee, tags, custom fields; then the history timeline
// and the duplicates with Merge (lead-parts.js); delete asks once more.
import { html, useState, useEffect, useCallback } from "../ui.js";
import { request, listAll, ApiError } from "../api.js";
import { STATUSES, SOURCES, fullName, when } from "../format.js";
import { TextField, SelectField, ErrorBanner, Notice, ConfirmButton, Field, uid } from "../widgets.js";
import { navigate } from "../router.js";
import { History, Duplicates } from "./lead-parts.js";

const TEXT_FIELDS = [
  ["email", "Email", "email"], ["firstName", "First name", "text"], ["lastName", "Last name", "text"],
  ["phone", "Phone", "tel"], ["company", "Company", "text"], ["title", "Title", "text"], ["industry", "Industry", "text"],
];
const REQUIRED = new Set(["email", "firstName", "lastName"]);

function typeOf(value) {
  if (value === null) return "null";
  return typeof value === "number" || typeof value === "boolean" ? typeof value : "string";
}

function draftOf(lead) {
  const draft = {};
  for (const [name] of TEXT_FIELDS) draft[name] = lead[name] ?? "";
  return {
    ...draft,
    message: lead.message ?? "",
    source: lead.source,
    status: lead.status,
    score: String(lead.score),
    assignedTo: lead.assignedTo ?? "",
    tags: lead.tags.join(", "),
    custom: Object.entries(lead.customFields).map(([key, value]) => ({ key, value: value === null ? "" : String(value), type: typeOf(value) })),
  };
}

function customValue({ value, type }) {
  if (type === "number") return Number.isFinite(Number(value)) && value.trim() !== "" ? Number(value) : value;
  if (type === "boolean") return value.trim().toLowerCase() === "true";
  if (type === "null") return null;
  return value;
}

// Only what differs from the stored lead; empty optional text clears the field (null).
export function changes(lead, draft) {
  const body = {};
  for (const name of [...TEXT_FIELDS.map(([field]) => field), "message"]) {
    const value = draft[name].trim();
    if (value === (lead[name] ?? "")) continue;
    body[name] = value === "" && !REQUIRED.has(name) ? null : value;
  }
  for (const name of ["source", "status"]) if (draft[name] !== lead[name]) body[name] = draft[name];
  const score = /^\d+$/.test(draft.score.trim()) ? Number(draft.score) : draft.score;
  if (score !== lead.score) body.score = score;
  if ((draft.assignedTo || null) !== lead.assignedTo) body.assignedTo = draft.assignedTo || null;
  const tags = draft.tags.split(",").map((tag) => tag.trim()).filter(Boolean);
  if (JSON.stringify(tags) !== JSON.stringify(lead.tags)) body.tags = tags;
  const custom = Object.fromEntries(draft.custom.filter((row) => row.key.trim()).map((row) => [row.key.trim(), customValue(row)]));
  if (JSON.stringify(custom) !== JSON.stringify(lead.customFields)) body.customFields = custom;
  return body;
}

function CustomFields({ rows, onChange, error }) {
  const update = (index, patch) => onChange(rows.map((row, at) => (at === index ? { ...row, ...patch } : row)));
  return html`<fieldset class="custom">
    <legend>Custom fields</legend>
    ${error ? html`<small class="error" role="alert">${error}</small>` : null}
    ${rows.map((row, index) => html`<div class="custom-row" key=${index}>
      <label>Name <input value=${row.key} onInput=${(event) => update(index, { key: event.currentTarget.value })} /></label>
      <label>Value <input value=${row.value} onInput=${(event) => update(index, { value: event.currentTarget.value })} /></label>
      <label>Type <select value=${row.type} onChange=${(event) => update(index, { type: event.currentTarget.value })}>
        ${["string", "number", "boolean", "null"].map((type) => html`<option value=${type}>${type}</option>`)}
      </select></label>
      <button type="button" onClick=${() => onChange(rows.filter((_, at) => at !== index))}>Remove ${row.key || "field"}</button>
    </div>`)}
    <button type="button" onClick=${() => onChange([...rows, { key: "", value: "", type: "string" }])}>Add custom field</button>
  </fieldset>`;
}

export function LeadPage({ id }) {
  const [lead, setLead] = useState(null);
  const [draft, setDraft] = useState(null);
  const [users, setUsers] = useState([]);
  const [fieldErrors, setFieldErrors] = useState({});
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState("");
  const [version, setVersion] = useState(0); // bumps history and duplicates after a change
  const [messageId] = useState(() => uid("f"));

  const load = useCallback(async () => {
    try {
      const reply = await request("GET", `/leads/${encodeURIComponent(id)}`);
      setLead(reply.data);
      setDraft(draftOf(reply.data));
      setVersion((old) => old + 1);
    } catch (exc) {
      setError(exc);
    }
  }, [id]);

  useEffect(() => { load(); }, [load]);
  useEffect(() => { listAll("/users").then((all) => setUsers(all.items)).catch(() => setUsers([])); }, []);

  async function save(event) {
    event.preventDefault();
    const body = changes(lead, draft);
    setFieldErrors({});
    setNotice("");
    setError(null);
    if (Object.keys(body).length === 0) {
      setNotice("Nothing to save.");
      return;
    }
    try {
      await request("PATCH", `/leads/${encodeURIComponent(id)}`, { body });
      setNotice("Saved.");
      await load();
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 422) setFieldErrors(exc.byField());
      setError(exc);
    }
  }

  async function remove() {
    try {
      await request("DELETE", `/leads/${encodeURIComponent(id)}`);
      navigate("/leads");
    } catch (exc) {
      setError(exc);
    }
  }

  if (!lead || !draft) return html`<h1>Lead</h1><${ErrorBanner} error=${error} />${error ? null : html`<p>Loading…</p>`}`;
  const set = (name) => (value) => setDraft({ ...draft, [name]: value });
  const customError = Object.entries(fieldErrors).filter(([name]) => name.startsWith("customFields")).map(([, text]) => text).join("; ");
  const userOptions = [["", "Unassigned"], ...users.filter((user) => user.active || user.id === lead.assignedTo).map((user) => [user.id, user.name])];
  return html`<p><a href="#/leads">← All leads</a></p>
    <h1>${fullName(lead) || lead.email}</h1>
    <p class="meta">Id ${lead.id} · ${lead.environment} · created ${when(lead.createdAt)} · updated ${when(lead.updatedAt)}
      ${lead.phoneE164 ? ` · E.164 ${lead.phoneE164}` : ""}${lead.duplicateOf ? ` · duplicate of ${lead.duplicateOf}` : ""}</p>
    <form class="lead-form" onSubmit=${save} novalidate aria-label="Lead fields">
      <${ErrorBanner} error=${error} />
      <${Notice} text=${notice} />
      <div class="grid">
        ${TEXT_FIELDS.map(([name, label, type]) => html`<${TextField} key=${name} label=${label} type=${type}
          value=${draft[name]} onInput=${set(name)} error=${fieldErrors[name]} />`)}
        <${SelectField} label="Status" value=${draft.status} onChange=${set("status")} error=${fieldErrors.status}
          options=${STATUSES.map((status) => [status, status])} />
        <${SelectField} label="Source" value=${draft.source} onChange=${set("source")} error=${fieldErrors.source}
          options=${SOURCES.map((source) => [source, source])} />
        <${TextField} label="Score" type="text" inputmode="numeric" value=${draft.score} onInput=${set("score")} error=${fieldErrors.score} hint="0 to 100" />
        <${SelectField} label="Assignee" value=${draft.assignedTo} onChange=${set("assignedTo")} error=${fieldErrors.assignedTo} options=${userOptions} />
        <${TextField} label="Tags" value=${draft.tags} onInput=${set("tags")} hint="Separated by commas"
          error=${Object.entries(fieldErrors).filter(([name]) => name.startsWith("tags")).map(([, text]) => text).join("; ") || undefined} />
      </div>
      <${Field} label="Message" id=${messageId} error=${fieldErrors.message}>
        ${(errorId) => html`<textarea id=${messageId} rows="4" aria-describedby=${errorId} value=${draft.message}
          onInput=${(event) => set("message")(event.currentTarget.value)}></textarea>`}
      <//>
      <${CustomFields} rows=${draft.custom} onChange=${set("custom")} error=${customError} />
      <div class="actions">
        <button type="submit" class="primary">Save changes</button>
        <button type="button" onClick=${() => { setDraft(draftOf(lead)); setFieldErrors({}); setError(null); }}>Discard changes</button>
        <${ConfirmButton} label="Delete lead" confirmLabel="Yes, delete this lead and its history" onConfirm=${remove} />
      </div>
    </form>
    <${Duplicates} lead=${lead} version=${version} onMerged=${(merged) => { setNotice(merged); load(); }} />
    <${History} lead=${lead} users=${users} version=${version} />`;
}
