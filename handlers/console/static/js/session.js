// Signing in and out, and what the signed-in user may see.
//
// POST /v1/auth/login gives a token; the user's role comes from GET /v1/users (emails are
// unique per tenant), since the API has no "who am I" call. The role only decides which pages
// the menu offers: the API itself refuses whatever the role may not do.
import { request, listAll, setSession, currentSession } from "./api.js";

export async function signIn(email, password, tenantId) {
  const body = { email, password };
  if (tenantId) body.tenantId = tenantId;
  const reply = await request("POST", "/auth/login", { body, anonymous: true });
  const { token, expiresAt } = reply.data;
  const [users, tenant] = await Promise.all([
    listAll("/users", {}, { token }),
    request("GET", "/tenant", { token }),
  ]);
  const wanted = email.trim().toLowerCase();
  const me = users.items.find((user) => user.email.toLowerCase() === wanted);
  const signedIn = {
    token,
    expiresAt,
    email: email.trim(),
    role: me ? me.role : "member",
    userId: me ? me.id : null,
    name: me ? me.name : email.trim(),
    tenantName: tenant.data.name,
    plan: tenant.data.plan,
  };
  setSession(signedIn);
  return signedIn;
}

// Revokes the token on the server (POST /v1/auth/logout), then forgets it here whatever the
// answer: a sign-out must never leave the user signed in on this tab.
export async function signOut() {
  try {
    if (currentSession()) await request("POST", "/auth/logout", { scope: "session" });
  } catch {
    /* already expired or refused: forgetting it locally is what is left to do */
  } finally {
    setSession(null);
  }
}

// Pages beyond the leads that a role may use (the API's scopes per role, README "Users"):
// "webhooks" is admin:webhooks.
const ROLE_PAGES = {
  owner: ["integrations", "webhooks", "users", "audit"],
  admin: ["integrations", "webhooks", "users", "audit"],
  member: [],
};

export function mayOpen(page) {
  const active = currentSession();
  return Boolean(active && (ROLE_PAGES[active.role] || []).includes(page));
}
