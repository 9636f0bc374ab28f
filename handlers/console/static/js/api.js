// The console's only door to the server: the public /v1 API with a Bearer credential.
//
// The session token lives in sessionStorage (this tab only, gone when it closes) and is sent
// only in the Authorization header, never in a URL. A sandbox key, when the user gives one, is
// held in memory only. A 401 on the session ends it: listeners (the app shell) return to
// sign-in and keep the page the user was on.

const BASE = "/v1";
const STORE_KEY = "leadpipe.console.session";

let session = readStoredSession();
let sandboxKey = null; // memory only: never stored, forgotten on reload and sign-out
let environment = "live";
let ended = false; // the server refused the session (expired or revoked), not a sign-out
const listeners = new Set();

function readStoredSession() {
  try {
    const raw = sessionStorage.getItem(STORE_KEY);
    const value = raw ? JSON.parse(raw) : null;
    if (value && value.token && new Date(value.expiresAt) > new Date()) return value;
  } catch {
    /* unreadable storage: start signed out */
  }
  return null;
}

function notify() {
  for (const listener of listeners) listener();
}

export function onAuthChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentSession() {
  return session;
}

export function setSession(value, { refused = false } = {}) {
  session = value;
  ended = refused;
  if (value) sessionStorage.setItem(STORE_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(STORE_KEY);
  if (!value) {
    sandboxKey = null;
    environment = "live";
  }
  notify();
}

export function sessionWasRefused() {
  return ended;
}

export function currentEnvironment() {
  return environment;
}

// Sessions act on live data only (see README); sandbox data needs a sandbox secret key.
export function setSandboxKey(key) {
  sandboxKey = key;
  environment = key ? "sandbox" : "live";
  notify();
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `Request failed (${status})`);
    this.status = status;
    this.code = body && body.code;
    this.fieldErrors = (body && body.errors) || [];
    this.retryAfterMs = body && body.retryAfterMs;
  }

  // Field name -> message, for forms that show errors beside their inputs.
  byField() {
    const map = {};
    for (const { field, message } of this.fieldErrors) {
      const name = String(field).replace(/^body\./, "");
      map[name] = map[name] ? `${map[name]}; ${message}` : message;
    }
    return map;
  }
}

export function queryString(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// `token` sends that credential instead (sign-in, before the session is set). `scope: "session"` always uses the signed-in user (settings pages); "data" (default) uses
// the sandbox key when the Sandbox switch is on.
export async function request(method, path, options = {}) {
  const { query, body, contentType, scope = "data", raw = false, anonymous = false, token } = options;
  const headers = { Accept: raw ? "*/*" : "application/json" };
  const useSandbox = scope === "data" && environment === "sandbox" && sandboxKey;
  const credential = token || (useSandbox ? sandboxKey : session && session.token);
  if (!anonymous && credential) headers.Authorization = `Bearer ${credential}`;
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = contentType ? body : JSON.stringify(body);
  }
  const response = await fetch(BASE + path + queryString(query), {
    method,
    headers,
    body: payload,
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  if (raw && response.ok) return response;
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    if (response.status === 401 && !anonymous && !token) {
      if (useSandbox) setSandboxKey(null);
      else setSession(null, { refused: true });
    }
    throw error;
  }
  return parsed;
}

// Every page of a cursor-paginated list, up to `max` items.
export async function listAll(path, query = {}, options = {}, max = 500) {
  const items = [];
  let cursor;
  for (;;) {
    const page = await request("GET", path, { ...options, query: { ...query, limit: 100, cursor } });
    items.push(...page.data);
    cursor = page.meta.pagination.nextCursor;
    if (!page.meta.pagination.hasMore || !cursor || items.length >= max) {
      return { items, complete: !page.meta.pagination.hasMore };
    }
  }
}
