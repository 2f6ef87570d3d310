// Calls to this server with its API key, when it has one. Shared by the home page and the
// pages that will grow from it (the browser playground): one place keeps the key.
const KEY_NAME = "ovos-realtime-api-key";

export function apiKey() {
  return sessionStorage.getItem(KEY_NAME) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key);
  else sessionStorage.removeItem(KEY_NAME);
}

export class Unauthorized extends Error {}

// GET a JSON document; throws Unauthorized on 401 so the page can ask for the key.
export async function getJSON(path) {
  const headers = apiKey() ? { Authorization: `Bearer ${apiKey()}` } : {};
  const response = await fetch(path, { headers });
  if (response.status === 401) throw new Unauthorized("API key needed");
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}
