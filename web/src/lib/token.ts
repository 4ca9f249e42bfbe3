// The access token a node requires when it listens on a non-local address. The
// page never keeps it: it is posted once to POST /api/session, which answers
// with an HttpOnly, SameSite=Strict cookie that the browser then sends with
// every API call and the event stream, and that no script (ours or injected)
// can read. A token arriving in the address (`#token=…` from the link the node
// prints at start) is removed from the address bar first, so it does not linger
// in history, screenshots or a server log.
const OLD_STORAGE_KEY = 'lanspread.token';

/** The login in flight, if any; API calls wait for it so they go out with the cookie. */
let pending: Promise<boolean> | null = null;
/** whether the last token tried was refused (the form asking for it is remade after a 401) */
let lastRejected = false;

export function lastLoginRejected(): boolean {
  return lastRejected;
}

/** Resolves once no login is in flight: true when the last one was accepted. */
export function loginSettled(): Promise<boolean> {
  return pending ?? Promise.resolve(true);
}

async function postSession(token: string): Promise<boolean> {
  try {
    const response = await fetch('/api/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token }),
      cache: 'no-store',
    });
    lastRejected = response.status === 401;
    return response.ok;
  } catch {
    return false;
  }
}

/** Exchange a token for the session cookie (null: log out). Returns at once; see loginSettled(). */
export function setToken(token: string | null): void {
  forgetStoredToken();
  const value = token?.trim() || null;
  const previous = pending ?? Promise.resolve(true);
  const next = previous.then(() =>
    value === null
      ? fetch('/api/session', {
          method: 'DELETE',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        }).then(
          () => true,
          () => false,
        )
      : postSession(value),
  );
  pending = next;
  void next.finally(() => {
    if (pending === next) pending = null;
  });
}

/** Takes a token found in the page address: strips it from the address, then logs in with it. */
export function adoptTokenFromLocation(): void {
  forgetStoredToken();
  const url = new URL(window.location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ''));
  const fromHash = hash.get('token');
  const fromQuery = url.searchParams.get('token');
  const token = fromHash ?? fromQuery;
  if (token === null) return;

  hash.delete('token');
  url.searchParams.delete('token');
  const rest = hash.toString();
  url.hash = rest ? `#${rest}` : '';
  window.history.replaceState(window.history.state, '', url.toString());
  setToken(token);
}

/** Earlier versions kept the token in localStorage; it has no business there any more. */
function forgetStoredToken(): void {
  try {
    window.localStorage.removeItem(OLD_STORAGE_KEY);
  } catch {
    // storage disabled: nothing stored either
  }
}
