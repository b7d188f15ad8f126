// The one way to the JSON admin API: the service key from session storage as the bearer
// token, JSON in and out, and every error answer turned into an ApiError with its message.
// Secret values travel only in request bodies, never in a URL.

const KEY = "fluxbase.serviceKey";

/** The signed-in service key, or null. */
export function serviceKey() {
  return sessionStorage.getItem(KEY);
}

/** Keeps `key` for this tab. */
export function signIn(key) {
  sessionStorage.setItem(KEY, key);
}

/** Forgets the key (sign-out, or a key the server refused). */
export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** An error answer: its status and the API's `error` message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onUnauthorized = () => {};

/** Called when the server refuses the key (401). */
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

/** Calls the API: `query` values that are empty are left out; `body` is sent as JSON. `key`
 *  overrides the stored key (to check one before keeping it). */
export async function api(method, path, { query = {}, body, key } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Authorization: `Bearer ${key ?? serviceKey() ?? ""}` };
  const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, `the server cannot be reached (${error.message})`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && typeof data.error === "string" && data.error) || `HTTP ${response.status}`;
    if (response.status === 401 && key === undefined) onUnauthorized();
    throw new ApiError(response.status, message);
  }
  return data;
}

/** A path segment, escaped. */
export function segment(text) {
  return encodeURIComponent(text);
}
