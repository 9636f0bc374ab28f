// The Sandbox/Live switch, always in the header.
//
// What the API offers (README "Users, sessions"): a sign-in session acts on live data only;
// sandbox data is reachable only with a sandbox key. So "Sandbox" asks for a sandbox secret key
// (lp_sandbox_sk_...), held in this tab's memory only, and the lead pages use it until the
// user switches back to Live, reloads or signs out. Settings pages always use the session.
import { html, useState } from "./ui.js";
import { currentEnvironment, setSandboxKey, request, ApiError } from "./api.js";

const SANDBOX_KEY = /^lp_sandbox_sk_[A-Za-z0-9]+$/;

export function EnvironmentSwitch() {
  const environment = currentEnvironment();
  const [asking, setAsking] = useState(false);
  const [key, setKey] = useState("");
  const [error, setError] = useState("");

  async function useKey(event) {
    event.preventDefault();
    setError("");
    if (!SANDBOX_KEY.test(key.trim())) {
      setError("That is not a sandbox secret key (lp_sandbox_sk_…).");
      return;
    }
    try {
      const tenant = await request("GET", "/tenant", { token: key.trim() });
      if (tenant.data.environment !== "sandbox") throw new Error("not a sandbox key");
      setSandboxKey(key.trim());
      setAsking(false);
      setKey("");
    } catch (exc) {
      setError(exc instanceof ApiError ? exc.message : "The key was not accepted.");
    }
  }

  return html`<div class="env">
    <div class="env-switch" role="group" aria-label="Sandbox or live data">
      <button type="button" aria-pressed=${environment === "live"} onClick=${() => { setSandboxKey(null); setAsking(false); }}>Live</button>
      <button type="button" aria-pressed=${environment === "sandbox"} onClick=${() => setAsking(!asking)}>Sandbox</button>
    </div>
    ${environment === "sandbox" ? html`<span class="env-badge">Sandbox data</span>` : null}
    ${asking && environment !== "sandbox"
      ? html`<form class="env-form" onSubmit=${useKey}>
          <p>Sign-in sessions act on <strong>live</strong> data only. To work on sandbox data in this tab,
            paste a sandbox secret key; it stays in this tab's memory and is forgotten on reload or sign-out.</p>
          <label for="sandbox-key">Sandbox secret key</label>
          <input id="sandbox-key" type="password" autocomplete="off" value=${key}
            onInput=${(event) => setKey(event.currentTarget.value)} />
          <button type="submit">Use sandbox</button>
          <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
          ${error ? html`<small class="error" role="alert">${error}</small>` : null}
        </form>`
      : null}
  </div>`;
}
