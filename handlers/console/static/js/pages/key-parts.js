// Pieces of Settings → Integrations: the one-time secret panel and the HTML form snippet.
import { html } from "../ui.js";
import { OneTimeSecret } from "../widgets.js";

export function SecretPanel({ issued, onDone }) {
  return html`<${OneTimeSecret} title=${`The secret of “${issued.name}”`} value=${issued.key} what="key" testId="secret-value"
    advice="Leadpipe stores only a hash of it; if it is lost, rotate the key to get a new one."
    doneLabel="I have stored it" onDone=${onDone}>
    ${issued.type === "publishable" ? html`<${Snippet} apiKey=${issued} value=${issued.key} />` : null}
  </${OneTimeSecret}>`;
}

export function snippetFor(apiKey, value) {
  const origins = apiKey.allowedOrigins || [];
  const thanks = origins.length ? `${origins[0].replace(/\/$/, "")}/thanks` : "https://www.example.com/thanks";
  return [
    `<form method="post" action="${location.origin}/v1/public/leads">`,
    `  <input type="hidden" name="key" value="${value}">`,
    `  <input type="hidden" name="redirect" value="${thanks}">`,
    `  <label>Name <input name="name" required></label>`,
    `  <label>Email <input name="email" type="email" required></label>`,
    `  <label>Company <input name="company"></label>`,
    `  <label>Message <textarea name="message"></textarea></label>`,
    `  <input name="honeypot" style="display:none" tabindex="-1" autocomplete="off">`,
    `  <button>Send</button>`,
    `</form>`,
  ].join("\n");
}

export function Snippet({ apiKey, value }) {
  const text = snippetFor(apiKey, value || `${apiKey.prefix}… (the key shown when it was created)`);
  const origins = apiKey.allowedOrigins || [];
  return html`<div class="snippet">
    <h3>HTML form for your website</h3>
    <p>${origins.length ? `Browsers may post it from: ${origins.join(", ")}.` : "No allowed origins: browsers cannot post this form until you add one (create a new key)."}</p>
    <pre tabindex="0" aria-label="HTML form snippet">${text}</pre>
    <button type="button" onClick=${() => navigator.clipboard.writeText(text).catch(() => {})}>Copy snippet</button>
  </div>`;
}
