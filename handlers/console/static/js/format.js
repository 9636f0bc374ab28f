// Small display helpers: everything returns plain strings, rendered as text.
export const STATUSES = ["new", "contacted", "qualified", "unqualified"];
export const SOURCES = ["web", "referral", "api", "import", "manual"];
export const SCOPES = ["read:leads", "write:leads", "admin:api_keys", "admin:users", "read:audit", "admin:webhooks"];

export function when(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function fullName(lead) {
  return [lead.firstName, lead.lastName].filter(Boolean).join(" ");
}

export function show(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// <input type="datetime-local"> gives local time without a zone; the API wants RFC 3339.
export function toIso(local) {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function userName(users, id) {
  if (!id) return "";
  const user = users.find((candidate) => candidate.id === id);
  return user ? user.name : id;
}
