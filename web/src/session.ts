// Signing in when access control is on. The password goes to the token service once, in the
// sign-in request, and is never kept: what is kept (for this tab only, in sessionStorage) is the
// user name and the refresh token the service returns. API calls carry short-lived access tokens
// obtained with it, one per scope, cached until shortly before they expire.

const storageKey = 'chartroom.session';

interface Stored {
  user: string;
  refreshToken: string;
}

interface TokenReply {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

/** Thrown when the token service refuses the credentials or the refresh token. */
export class SignInError extends Error {}

function load(): Stored | undefined {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(storageKey) ?? 'null');
    if (parsed && typeof parsed === 'object' && 'user' in parsed && 'refreshToken' in parsed) {
      const { user, refreshToken } = parsed;
      if (typeof user === 'string' && typeof refreshToken === 'string') return { user, refreshToken };
    }
  } catch {
    // unreadable: signed out
  }
  return undefined;
}

let stored = load();
const tokens = new Map<string, { token: string; until: number }>();
const listeners = new Set<() => void>();

function save(next: Stored | undefined): void {
  stored = next;
  tokens.clear();
  if (next) sessionStorage.setItem(storageKey, JSON.stringify(next));
  else sessionStorage.removeItem(storageKey);
  for (const listener of listeners) listener();
}

async function requestToken(form: Record<string, string>): Promise<TokenReply> {
  const response = await fetch('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-requested-with': 'XMLHttpRequest' },
    body: new URLSearchParams(form),
  });
  if (response.status === 401) throw new SignInError('Wrong user name or password.');
  if (response.status === 429) throw new SignInError('Too many failed sign-ins: wait a minute and try again.');
  if (!response.ok) throw new SignInError(`The token service answered ${response.status}.`);
  return (await response.json()) as TokenReply;
}

/** The signed-in user's name, if any. */
export function currentUser(): string | undefined {
  return stored?.user;
}

/** Calls `listener` on sign-in and sign-out; returns the unsubscribe. */
export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function signIn(user: string, password: string): Promise<void> {
  const reply = await requestToken({ grant_type: 'password', username: user, password });
  if (!reply.refresh_token) throw new SignInError('The token service returned no refresh token.');
  save({ user, refreshToken: reply.refresh_token });
}

export function signOut(): void {
  save(undefined);
}

/**
 * `Bearer …` for a call that needs `scope` (a `repository:<name>:pull` scope for a chart's
 * pages, none for lists, which the server filters by who is asking); undefined when signed out.
 */
export async function authorization(scope: string): Promise<string | undefined> {
  const session = stored;
  if (!session) return undefined;
  const cached = tokens.get(scope);
  if (cached && cached.until > Date.now()) return `Bearer ${cached.token}`;
  let reply: TokenReply;
  try {
    reply = await requestToken({ grant_type: 'refresh_token', refresh_token: session.refreshToken, ...(scope ? { scope } : {}) });
  } catch (err) {
    // An expired or revoked session: sign out, and let the page ask again.
    if (err instanceof SignInError && stored === session) save(undefined);
    throw err;
  }
  tokens.set(scope, { token: reply.access_token, until: Date.now() + Math.max(reply.expires_in - 15, 5) * 1000 });
  if (reply.refresh_token && stored === session) {
    stored = { user: session.user, refreshToken: reply.refresh_token };
    sessionStorage.setItem(storageKey, JSON.stringify(stored));
  }
  return `Bearer ${reply.access_token}`;
}
