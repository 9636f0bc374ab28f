// Pieces of Settings → Integrations: the one-time secret panel and the HTML form snippet.
import { html, useState } from "../ui.js";

// The secret exists only in this component's state: navigating away unmounts it for good.
export function SecretPanel({ issued, onDone }) {
  const [copied, setCopied] = useState("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(issued.key);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("Copying is not allowed here: select the key and copy it by hand.");
    }
  }
  return html`<section class="secret" role="region" aria-labelledby="secret-title">
    <h2 id="secret-title">The secret of “${issued.name}”</h2>
    <p class="banner warning" role="alert"><strong>Copy it now: it is shown only once.</strong>${" "}
      Leadpipe stores only a hash of it; if it is lost, rotate the key to get a new one.</p>
    <p><code class="secret-value" data-testid="secret-value">${issued.key}</code></p>
    <button type="button" onClick=${copy}>Copy key</button>
    <span role="status" aria-live="polite">${copied}</span>
    ${issued.type === "publishable" ? html`<${Snippet} apiKey=${issued} value=${issued.key} />` : null}
    <p><button type="button" class="primary" onClick=${onDone}>I have stored it</button></p>
  </section>`;
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
