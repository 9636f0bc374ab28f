// The app shell: sign-in gate, header (tenant, Sandbox/Live switch, sign out), menu, pages.
import { html, render, useState, useEffect } from "./ui.js";
import { currentSession, onAuthChange } from "./api.js";
import { signOut, mayOpen } from "./session.js";
import { useRoute } from "./router.js";
import { EnvironmentSwitch } from "./environment.js";
import { SignIn } from "./pages/signin.js";
import { LeadsPage } from "./pages/leads.js";
import { BoardPage } from "./pages/board.js";
import { LeadPage } from "./pages/lead.js";
import { ImportPage } from "./pages/import.js";
import { KeysPage } from "./pages/keys.js";
import { WebhooksPage } from "./pages/webhooks.js";
import { UsersPage } from "./pages/users.js";
import { AuditPage } from "./pages/audit.js";

const MENU = [
  ["leads", "Leads", null],
  ["board", "Pipeline", null],
  ["import", "Import", null],
  ["integrations", "Settings → Integrations", "integrations"],
  ["users", "Settings → Users", "users"],
  ["audit", "Audit log", "audit"],
];

function useAuth() {
  const [state, setState] = useState({ session: currentSession(), version: 0 });
  useEffect(
    () => onAuthChange(() => setState((old) => ({ session: currentSession(), version: old.version + 1 }))),
    [],
  );
  return state;
}

function Page({ route }) {
  switch (route.page) {
    case "leads":
      return route.id ? html`<${LeadPage} id=${route.id} />` : html`<${LeadsPage} />`;
    case "board":
      return html`<${BoardPage} />`;
    case "import":
      return html`<${ImportPage} />`;
    case "integrations":
      if (route.id === "webhooks") return mayOpen("webhooks") ? html`<${WebhooksPage} />` : html`<${NotAllowed} />`;
      return mayOpen("integrations") ? html`<${KeysPage} />` : html`<${NotAllowed} />`;
    case "users":
      return mayOpen("users") ? html`<${UsersPage} />` : html`<${NotAllowed} />`;
    case "audit":
      return mayOpen("audit") ? html`<${AuditPage} />` : html`<${NotAllowed} />`;
    default:
      return html`<h1>Not found</h1><p>No such page. <a href="#/leads">Go to the leads</a>.</p>`;
  }
}

function NotAllowed() {
  return html`<h1>Not available</h1><p>Your role cannot use this page; ask an owner or admin.</p>`;
}

function App() {
  const { session, version } = useAuth();
  const route = useRoute();
  useEffect(() => {
    const main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  }, [route.page, route.id]);
  if (!session) return html`<${SignIn} />`;
  const items = MENU.filter(([, , need]) => !need || mayOpen(need));
  return html`<div class="shell">
    <a class="skip" href="#main" onClick=${(event) => { event.preventDefault(); document.getElementById("main").focus(); }}>Skip to content</a>
    <header class="top">
      <span class="brand">Leadpipe</span>
      <span class="who">${session.name} · ${session.role} · ${session.tenantName}</span>
      <${EnvironmentSwitch} key=${version} />
      <button type="button" class="signout" onClick=${() => signOut()}>Sign out</button>
    </header>
    <nav class="menu" aria-label="Main">
      <ul>
        ${items.map(([page, label]) => html`<li>
          <a href=${`#/${page}`} aria-current=${route.page === page ? "page" : undefined}>${label}</a>
        </li>`)}
      </ul>
    </nav>
    <main id="main" tabindex="-1"><${Page} key=${`${route.page}/${route.id}/${version}`} route=${route} /></main>
  </div>`;
}

const root = document.getElementById("app");
root.replaceChildren(); // drop the "Loading" text (Preact 11 renders beside foreign nodes)
render(html`<${App} />`, root);
