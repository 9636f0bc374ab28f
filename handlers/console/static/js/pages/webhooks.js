// Settings → Integrations → Webhook endpoints: list, create, the signing secret shown once,
// rotate it, enable/disable, delete, and per endpoint its delivery log (webhook-log.js).
// Always the signed-in session (owners and admins hold admin:webhooks); the API decides.
import { html, useState } from "../ui.js";
import { request, ApiError } from "../api.js";
import { when } from "../format.js";
import { TextField, ErrorBanner, Notice, ConfirmButton, OneTimeSecret } from "../widgets.js";
import { useCursorPages } from "../paging.js";
import { DeliveryLog } from "./webhook-log.js";

const SESSION = { scope: "session" };
export const EVENT_TYPES = ["lead.created", "lead.updated", "lead.deleted", "lead.merged", "lead.duplicate_detected", "import.completed", "import.failed"];
const FIELDS = ["email", "firstName", "lastName", "phone", "company", "title", "industry", "message", "source", "status", "score", "assignedTo", "customFields", "tags"];
const EMPTY = { url: "", events: ["*"], fields: [], description: "" };

function WebhookSecret({ issued, onDone }) {
  return html`<${OneTimeSecret} title=${`The signing secret of ${issued.url}`} value=${issued.secret} what="secret"
    testId="webhook-secret-value" heading="h3" doneLabel="I have stored the secret" onDone=${onDone}
    advice="Your receiver verifies every delivery with it (Standard Webhooks); if it is lost, rotate it." />`;
}

function bodyOf(form) {
  const body = { url: form.url.trim(), events: form.events };
  if (form.fields.length) body.fields = form.fields;
  if (form.description.trim()) body.description = form.description.trim();
  return body;
}

function CreateEndpoint({ onIssued }) {
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const set = (name) => (value) => setForm({ ...form, [name]: value });
  function toggle(type) {
    if (type === "*") return set("events")(form.events.includes("*") ? [] : ["*"]);
    const rest = form.events.filter((t) => t !== "*");
    return set("events")(rest.includes(type) ? rest.filter((t) => t !== type) : [...rest, type]);
  }

  async function submit(event) {
    event.preventDefault();
    setErrors({});
    setError(null);
    try {
      const reply = await request("POST", "/webhook-endpoints", { ...SESSION, body: bodyOf(form) });
      setForm(EMPTY);
      onIssued(reply.data);
    } catch (exc) {
      if (exc instanceof ApiError) setErrors(exc.byField());
      setError(exc);
    }
  }

  const about = (prefix) => Object.entries(errors).filter(([name]) => name.startsWith(prefix)).map(([, text]) => text).join("; ");
  return html`<form class="key-form" onSubmit=${submit} novalidate aria-labelledby="create-webhook-title">
    <h3 id="create-webhook-title">Add a webhook endpoint</h3>
    <${ErrorBanner} error=${error} />
    <div class="grid">
      <${TextField} label="Endpoint URL" type="url" value=${form.url} onInput=${set("url")} error=${errors.url}
        maxlength="2048" placeholder="https://hooks.example.com/leadpipe" />
      <${TextField} label="Endpoint description" value=${form.description} onInput=${set("description")}
        error=${errors.description} maxlength="500" />
    </div>
    <fieldset><legend>Events</legend>
      ${about("events") ? html`<small class="error" role="alert">${about("events")}</small>` : null}
      <label class="check"><input type="checkbox" checked=${form.events.includes("*")} onChange=${() => toggle("*")} /> All events (*)</label>
      ${EVENT_TYPES.map((type) => html`<label class="check" key=${type}>
        <input type="checkbox" checked=${form.events.includes(type)} disabled=${form.events.includes("*")} onChange=${() => toggle(type)} /> ${type}</label>`)}
    </fieldset>
    <div class="field">
      <label for="webhook-fields">Only when these fields change (lead.updated)</label>
      <select id="webhook-fields" multiple size="5" aria-describedby="webhook-fields-hint"
        onChange=${(event) => set("fields")([...event.currentTarget.selectedOptions].map((option) => option.value))}>
        ${FIELDS.map((name) => html`<option value=${name} selected=${form.fields.includes(name)}>${name}</option>`)}
      </select>
      <small class="hint" id="webhook-fields-hint">Optional; none selected: every lead.updated. Needs lead.updated (or all events).</small>
      ${about("fields") ? html`<small class="error" role="alert">${about("fields")}</small>` : null}
    </div>
    <button type="submit" class="primary">Add endpoint</button>
  </form>`;
}

function Endpoint({ endpoint, onAct }) {
  const [showLog, setShowLog] = useState(false);
  const label = endpoint.description || endpoint.url;
  return html`<article class="endpoint" data-endpoint-id=${endpoint.id} aria-label=${`Endpoint ${endpoint.url}`}>
    <h3 class="endpoint-url"><code>${endpoint.url}</code></h3>
    <dl class="facts">
      <dt>State</dt><dd class=${endpoint.enabled ? "state ok" : "state off"}>${endpoint.enabled ? "Enabled" : `Disabled${endpoint.disabledReason ? `: ${endpoint.disabledReason}` : ""}`}${endpoint.disabledAt ? ` (${when(endpoint.disabledAt)})` : ""}</dd>
      <dt>Events</dt><dd>${endpoint.events.join(", ")}</dd>
      <dt>Fields</dt><dd>${endpoint.fields && endpoint.fields.length ? endpoint.fields.join(", ") : "any"}</dd>
      <dt>Environment</dt><dd>${endpoint.environment}</dd>
      ${endpoint.description ? html`<dt>Description</dt><dd>${endpoint.description}</dd>` : null}
      ${endpoint.previousSecretExpiresAt ? html`<dt>Previous secret</dt><dd>also signs until ${when(endpoint.previousSecretExpiresAt)}</dd>` : null}
      <dt>Created</dt><dd>${when(endpoint.createdAt)}</dd>
    </dl>
    <div class="actions">
      <button type="button" aria-expanded=${showLog} onClick=${() => setShowLog(!showLog)}>${showLog ? "Hide delivery log" : "Delivery log"}</button>
      <button type="button" disabled=${!endpoint.enabled} onClick=${() => onAct("POST", "/test", "Test event queued: see the delivery log.")}>Send test event</button>
      <button type="button" onClick=${() => onAct("PATCH", "", endpoint.enabled ? "Endpoint disabled." : "Endpoint enabled.", { enabled: !endpoint.enabled })}>
        ${endpoint.enabled ? "Disable" : "Enable"}</button>
      <${ConfirmButton} label="Rotate secret" confirmLabel="Yes, rotate (the old secret also signs for 24 h)"
        onConfirm=${() => onAct("POST", "/rotate-secret", "Secret rotated.")} />
      <${ConfirmButton} label="Delete endpoint" confirmLabel=${`Yes, delete ${label}`}
        onConfirm=${() => onAct("DELETE", "", "Endpoint deleted.")} />
    </div>
    ${showLog ? html`<${DeliveryLog} endpoint=${endpoint} />` : null}
  </article>`;
}

export function WebhooksSection() {
  const [issued, setIssued] = useState(null);
  const [notice, setNotice] = useState("");
  const { page, error, setError, load, pager } = useCursorPages(
    (cursor) => request("GET", "/webhook-endpoints", { ...SESSION, query: { limit: 20, cursor } }),
    [],
  );
  const endpoints = page.items;

  const actOn = (endpoint) => async (method, path, message, body) => {
    setError(null);
    setNotice("");
    try {
      const reply = await request(method, `/webhook-endpoints/${encodeURIComponent(endpoint.id)}${path}`, { ...SESSION, body });
      if (reply && reply.data && reply.data.secret) setIssued(reply.data);
      setNotice(message);
      await load();
    } catch (exc) {
      setError(exc);
    }
  };

  return html`<section aria-labelledby="webhooks-title" class="webhooks">
    <h2 id="webhooks-title">Webhook endpoints</h2>
    <p class="meta">Leadpipe posts each event to these URLs, signed (Standard Webhooks), retried for days, replayable.</p>
    <${ErrorBanner} error=${error} />
    <${Notice} text=${notice} />
    ${issued ? html`<${WebhookSecret} issued=${issued} onDone=${() => setIssued(null)} />` : null}
    <${CreateEndpoint} onIssued=${(data) => { setIssued(data); setNotice("Endpoint added."); load(); }} />
    ${page.loaded && !endpoints.length ? html`<p class="empty">No webhook endpoints yet.</p>` : null}
    ${endpoints.map((endpoint) => html`<${Endpoint} key=${endpoint.id} endpoint=${endpoint} onAct=${actOn(endpoint)} />`)}
    ${pager}
  </section>`;
}

export function WebhooksPage() {
  return html`<h1>Settings → Integrations → Webhooks</h1>
    <p><a href="#/integrations">Back to API keys</a></p>
    <${WebhooksSection} />`;
}
