// The access token a node requires when it listens on a non-local address. It
// arrives once in the address (`#token=…` or `?token=…`), is kept in localStorage,
// and is removed from the address bar so it does not linger in history or screenshots.
const STORAGE_KEY = 'lanspread.token';

let memoryToken: string | null = null;

export function getToken(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY) ?? memoryToken;
  } catch {
    return memoryToken; // storage disabled: keep it for this page only
  }
}

export function setToken(token: string | null): void {
  const value = token?.trim() || null;
  memoryToken = value;
  try {
    if (value) window.localStorage.setItem(STORAGE_KEY, value);
    else window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the in-memory copy is enough
  }
}

/** Stores a token found in the page address and rewrites the address without it. */
export function adoptTokenFromLocation(): void {
  const url = new URL(window.location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ''));
  const fromHash = hash.get('token');
  const fromQuery = url.searchParams.get('token');
  const token = fromHash ?? fromQuery;
  if (token === null) return;

  setToken(token);
  hash.delete('token');
  url.searchParams.delete('token');
  const rest = hash.toString();
  url.hash = rest ? `#${rest}` : '';
  window.history.replaceState(window.history.state, '', url.toString());
}
