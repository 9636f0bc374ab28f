// Sign in: email + password; a tenant ID only when the API answers 409 (the email has
// accounts in several tenants and the password matched more than one). The page the user was
// on (the URL hash) is kept, so an expired session comes back to where it was.
import { html, useState } from "../ui.js";
import { ApiError, sessionWasRefused } from "../api.js";
import { signIn } from "../session.js";
import { TextField, ErrorBanner } from "../widgets.js";

function explain(error) {
  if (!(error instanceof ApiError)) return "The server could not be reached. Check the connection and try again.";
  if (error.status === 401) return "Wrong email or password.";
  if (error.status === 429) {
    const seconds = Math.max(1, Math.ceil((error.retryAfterMs || 1000) / 1000));
    return `Too many failed sign-ins. Wait ${seconds} seconds before trying again.`;
  }
  if (error.status === 409) return "This email signs in to several tenants: enter the tenant ID to choose one.";
  return error.message;
}

export function SignIn() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [tenantId, setTenantId] = useState("");
  const [needTenant, setNeedTenant] = useState(false);
  const [error, setError] = useState(null);
  const [ended] = useState(sessionWasRefused);
  const [fields, setFields] = useState({});
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFields({});
    try {
      await signIn(email, password, needTenant ? tenantId.trim() : undefined);
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 409) setNeedTenant(true);
      if (exc instanceof ApiError && exc.status === 422) setFields(exc.byField());
      setError(explain(exc));
      setBusy(false);
    }
  }

  return html`<main class="signin" id="main" tabindex="-1">
    <h1>Sign in to Leadpipe</h1>
    <form onSubmit=${submit} novalidate>
      <${ErrorBanner} error=${error} />
      ${ended && !error ? html`<p class="banner warning" role="status">Your session has ended. Sign in again to return to the page you were on.</p>` : null}
      <${TextField} label="Email" type="email" value=${email} onInput=${setEmail} error=${fields.email}
        autocomplete="username" required />
      <${TextField} label="Password" type="password" value=${password} onInput=${setPassword}
        error=${fields.password} autocomplete="current-password" required />
      ${needTenant
        ? html`<${TextField} label="Tenant ID" value=${tenantId} onInput=${setTenantId} error=${fields.tenantId}
            hint="Your administrator can tell you the ID of the tenant you want." />`
        : null}
      <button type="submit" class="primary" disabled=${busy}>Sign in</button>
    </form>
  </main>`;
}
