// Settings → Integrations: API keys (create, list, rotate, revoke), publishable keys with their
// allowed origins and form snippet, and the webhook endpoints (webhooks.js) for roles that may.
import { html, useState } from "../ui.js";
import { request, ApiError } from "../api.js";
import { SCOPES, when, toIso } from "../format.js";
import { TextField, SelectField, ErrorBanner, Notice, ConfirmButton } from "../widgets.js";
import { useCursorPages } from "../paging.js";
import { SecretPanel, Snippet } from "./key-parts.js";
import { WebhooksSection } from "./webhooks.js";
import { mayOpen } from "../session.js";

const SESSION = { scope: "session" };
const EMPTY = { name: "", type: "secret", scopes: ["read:leads"], environment: "live", rateLimitTier: "standard", expiresAt: "", description: "", origins: "" };

function bodyOf(form) {
  const body = { name: form.name, type: form.type, environment: form.environment, rateLimitTier: form.rateLimitTier };
  if (form.type === "secret") body.scopes = form.scopes;
  if (form.description.trim()) body.description = form.description.trim();
  if (form.expiresAt) body.expiresAt = toIso(form.expiresAt);
  const origins = form.origins.split(/\s+/).filter(Boolean);
  if (form.type === "publishable" && origins.length) body.allowedOrigins = origins;
  return body;
}

function CreateKey({ onIssued }) {
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const set = (name) => (value) => setForm({ ...form, [name]: value });
  const toggle = (scope) => set("scopes")(form.scopes.includes(scope) ? form.scopes.filter((s) => s !== scope) : [...form.scopes, scope]);

  async function submit(event) {
    event.preventDefault();
    setErrors({});
    setError(null);
    try {
      const reply = await request("POST", "/api-keys", { ...SESSION, body: bodyOf(form) });
      setForm(EMPTY);
      onIssued(reply.data);
    } catch (exc) {
      if (exc instanceof ApiError) setErrors(exc.byField());
      setError(exc);
    }
  }

  const scopeError = Object.entries(errors).filter(([name]) => name.startsWith("scopes")).map(([, text]) => text).join("; ");
  const originError = Object.entries(errors).filter(([name]) => name.startsWith("allowedOrigins")).map(([, text]) => text).join("; ");
  return html`<form class="key-form" onSubmit=${submit} novalidate aria-labelledby="create-key-title">
    <h2 id="create-key-title">Create an API key</h2>
    <${ErrorBanner} error=${error} />
    <div class="grid">
      <${TextField} label="Key name" value=${form.name} onInput=${set("name")} error=${errors.name} maxlength="120" />
      <${SelectField} label="Key type" value=${form.type} onChange=${set("type")} error=${errors.type}
        options=${[["secret", "Secret (server-side)"], ["publishable", "Publishable (website forms)"]]} />
      <${SelectField} label="Environment" value=${form.environment} onChange=${set("environment")} error=${errors.environment}
        options=${[["live", "Live"], ["sandbox", "Sandbox"]]} />
      <${SelectField} label="Rate-limit tier" value=${form.rateLimitTier} onChange=${set("rateLimitTier")} error=${errors.rateLimitTier}
        options=${[["standard", "Standard"], ["high", "High (3×, own budget)"], ["unmetered", "Unmetered (enterprise)"]]} />
      <${TextField} label="Expires at" type="datetime-local" value=${form.expiresAt} onInput=${set("expiresAt")}
        error=${errors.expiresAt} hint="Empty: never expires" />
      <${TextField} label="Description" value=${form.description} onInput=${set("description")} error=${errors.description} maxlength="500" />
    </div>
    ${form.type === "secret"
      ? html`<fieldset><legend>Scopes</legend>
          ${scopeError ? html`<small class="error" role="alert">${scopeError}</small>` : null}
          ${SCOPES.map((scope) => html`<label class="check" key=${scope}>
            <input type="checkbox" checked=${form.scopes.includes(scope)} onChange=${() => toggle(scope)} /> ${scope}</label>`)}
        </fieldset>`
      : html`<div class="field">
          <label for="key-origins">Allowed origins</label>
          <textarea id="key-origins" rows="2" value=${form.origins} onInput=${(event) => set("origins")(event.currentTarget.value)}
            aria-describedby="key-origins-hint"></textarea>
          <small class="hint" id="key-origins-hint">One per line, e.g. https://www.example.com (scope: capture:leads only)</small>
          ${originError ? html`<small class="error" role="alert">${originError}</small>` : null}
        </div>`}
    <button type="submit" class="primary">Create key</button>
  </form>`;
}

export function KeysPage() {
  const [issued, setIssued] = useState(null);
  const [notice, setNotice] = useState("");
  const [snippetFor, setSnippetFor] = useState(null);
  const { page, error, setError, load, pager } = useCursorPages(
    (cursor) => request("GET", "/api-keys", { ...SESSION, query: { limit: 20, cursor } }),
    [],
  );
  const keys = page.items;

  async function act(method, key, path, message) {
    setError(null);
    try {
      const reply = await request(method, `/api-keys/${encodeURIComponent(key.id)}${path}`, SESSION);
      if (reply.data.key) setIssued(reply.data);
      setNotice(message);
      await load();
    } catch (exc) {
      setError(exc);
    }
  }

  return html`<h1>Settings → Integrations</h1>
    <${ErrorBanner} error=${error} />
    <${Notice} text=${notice} />
    ${issued ? html`<${SecretPanel} issued=${issued} onDone=${() => setIssued(null)} />` : null}
    <${CreateKey} onIssued=${(data) => { setIssued(data); setNotice(`Key “${data.name}” created.`); load(); }} />
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      <div class="table-wrap"><table class="keys">
        <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Environment</th><th scope="col">Prefix</th>
          <th scope="col">Scopes</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col">Expires</th>
          <th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
        <tbody>${keys.map((key) => html`<tr key=${key.id} data-key-id=${key.id}>
          <td>${key.name}</td><td>${key.type}</td><td>${key.environment}</td><td><code>${key.prefix}…</code></td>
          <td>${key.scopes.join(", ")}${key.allowedOrigins && key.allowedOrigins.length ? ` · origins: ${key.allowedOrigins.join(", ")}` : ""}</td>
          <td>${key.rateLimitTier}</td><td>${key.status}</td><td>${when(key.expiresAt) || "never"}</td><td>${when(key.createdAt)}</td>
          <td class="row-actions">${key.status === "active" ? html`
            <${ConfirmButton} label=${`Rotate ${key.name}`} confirmLabel="Yes, rotate (issues a new secret)"
              onConfirm=${() => act("POST", key, "/rotate", `Key “${key.name}” rotated.`)} />
            <${ConfirmButton} label=${`Revoke ${key.name}`} confirmLabel="Yes, revoke"
              onConfirm=${() => act("DELETE", key, "", `Key “${key.name}” revoked.`)} />
            ${key.type === "publishable" ? html`<button type="button" onClick=${() => setSnippetFor(snippetFor === key.id ? null : key.id)}>Form snippet</button>` : null}` : null}
          </td></tr>`)}</tbody>
      </table></div>
      ${keys.filter((key) => key.id === snippetFor).map((key) => html`<${Snippet} key=${key.id} apiKey=${key} />`)}
      ${pager}
    </section>
    ${mayOpen("webhooks") ? html`<${WebhooksSection} />` : null}`;
}
