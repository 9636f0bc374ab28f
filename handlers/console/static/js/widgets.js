// Shared pieces: labelled fields with their error, error banners, confirm-in-place buttons, one-time secrets.
import { html, useState } from "./ui.js";

let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

export function Field({ label, error, hint, children, id }) {
  const errorId = error ? `${id}-error` : undefined;
  return html`<div class=${error ? "field has-error" : "field"}>
    <label for=${id}>${label}</label>
    ${children(errorId)}
    ${hint ? html`<small class="hint">${hint}</small>` : null}
    ${error ? html`<small class="error" id=${errorId} role="alert">${error}</small>` : null}
  </div>`;
}

export function TextField({ label, value, onInput, error, type = "text", hint, ...rest }) {
  const [id] = useState(() => uid("f"));
  return html`<${Field} label=${label} error=${error} hint=${hint} id=${id}>
    ${(errorId) => html`<input id=${id} type=${type} value=${value ?? ""}
      aria-invalid=${error ? "true" : undefined} aria-describedby=${errorId}
      onInput=${(event) => onInput(event.currentTarget.value)} ...${rest} />`}
  <//>`;
}

export function SelectField({ label, value, onChange, options, error, ...rest }) {
  const [id] = useState(() => uid("f"));
  return html`<${Field} label=${label} error=${error} id=${id}>
    ${(errorId) => html`<select id=${id} value=${value ?? ""} aria-describedby=${errorId}
      aria-invalid=${error ? "true" : undefined}
      onChange=${(event) => onChange(event.currentTarget.value)} ...${rest}>
      ${options.map(([optionValue, text]) => html`<option value=${optionValue}>${text}</option>`)}
    </select>`}
  <//>`;
}

export function ErrorBanner({ error }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : error.message;
  return html`<p class="banner error" role="alert">${text}</p>`;
}

export function Notice({ text }) {
  return text ? html`<p class="banner ok" role="status">${text}</p>` : null;
}

// A destructive action asks once more in place (no window.confirm: keyboard- and test-friendly).
export function ConfirmButton({ label, confirmLabel, onConfirm, disabled }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return html`<button type="button" class="danger" disabled=${disabled} onClick=${() => setAsking(true)}>${label}</button>`;
  }
  return html`<span class="confirm" role="group" aria-label=${label}>
    <button type="button" class="danger" onClick=${() => { setAsking(false); onConfirm(); }}>${confirmLabel}</button>
    <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

export function Pager({ hasPrevious, hasMore, onPrevious, onNext }) {
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" disabled=${!hasPrevious} onClick=${onPrevious}>Previous page</button>
    <button type="button" disabled=${!hasMore} onClick=${onNext}>Next page</button>
  </nav>`;
}

// A secret shown once (a new API key, a webhook signing secret). It exists only in this
// component's state: navigating away unmounts it for good.
export function OneTimeSecret({ title, value, what, advice, testId, doneLabel, heading = "h2", onDone, children }) {
  const [copied, setCopied] = useState("");
  const [titleId] = useState(() => uid("secret-title"));
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied(`Copying is not allowed here: select the ${what} and copy it by hand.`);
    }
  }
  return html`<section class="secret" role="region" aria-labelledby=${titleId}>
    <${heading} id=${titleId}>${title}</${heading}>
    <p class="banner warning" role="alert"><strong>Copy it now: it is shown only once.</strong>${" "}${advice}</p>
    <p><code class="secret-value" data-testid=${testId}>${value}</code></p>
    <button type="button" onClick=${copy}>Copy ${what}</button>
    <span role="status" aria-live="polite">${copied}</span>
    ${children}
    <p><button type="button" class="primary" onClick=${onDone}>${doneLabel}</button></p>
  </section>`;
}
