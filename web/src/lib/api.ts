// The only module that talks to the node. Calls are same-origin, so the browser adds
// the session cookie by itself when the node wants a token (see token.ts); a call
// waits for a login in flight. Mutations always send a JSON body. Failures surface
// as ApiError with the server's stable error code, so callers never parse messages
// or Responses.
import type {
  ActiveOperation,
  ErrorBody,
  Game,
  GameDetail,
  Health,
  HistoryEntry,
  Peer,
  Queue,
  Settings,
  SettingsPatch,
  Stats,
  StatsHistory,
} from '../../../shared/api.js';
import { ClientErrorCode, ErrorCode, type ClientSideCode } from '../../../shared/error-codes.js';
import { loginSettled } from './token.js';

export class ApiError extends Error {
  constructor(
    /** HTTP status, or 0 when the node could not be reached */
    readonly status: number,
    readonly code: ClientSideCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type UnauthorizedListener = () => void;
let unauthorizedListener: UnauthorizedListener | null = null;

/** Called whenever the node answers 401, so the app can ask for a token. */
export function onUnauthorized(listener: UnauthorizedListener | null): void {
  unauthorizedListener = listener;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  await loginSettled();
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers, cache: 'no-store', credentials: 'same-origin' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, ClientErrorCode.Unreachable, 'Cannot reach the Lanspread node.');
  }
  if (response.status === 401) unauthorizedListener?.();

  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!response.ok) {
    const error = (data as Partial<ErrorBody> | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? ErrorCode.Internal,
      error?.message ?? `The node answered ${response.status} ${response.statusText}`.trim(),
    );
  }
  return data as T;
}

const gamePath = (id: string, action = '') => `/api/games/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

export const api = {
  health: () => request<Health>('GET', '/api/health'),
  games: () => request<Game[]>('GET', '/api/games'),
  game: (id: string) => request<GameDetail>('GET', gamePath(id)),
  peers: () => request<Peer[]>('GET', '/api/peers'),
  operations: () => request<ActiveOperation[]>('GET', '/api/operations'),
  settings: () => request<Settings>('GET', '/api/settings'),
  updateSettings: (patch: SettingsPatch) => request<Settings>('PUT', '/api/settings', patch),
  stats: () => request<Stats>('GET', '/api/stats'),
  statsHistory: () => request<StatsHistory>('GET', '/api/stats/history'),
  history: () => request<HistoryEntry[]>('GET', '/api/history'),
  queue: () => request<Queue>('GET', '/api/queue'),
  moveQueued: (id: string, position: number) => request<Queue>('POST', `/api/queue/${encodeURIComponent(id)}/move`, { position }),
  removeQueued: (id: string) => request<Queue>('DELETE', `/api/queue/${encodeURIComponent(id)}`),

  download: (id: string, stream = false) => request<Game>('POST', gamePath(id, 'download'), stream ? { stream: true } : {}),
  update: (id: string) => request<Game>('POST', gamePath(id, 'update')),
  install: (id: string) => request<Game>('POST', gamePath(id, 'install')),
  uninstall: (id: string) => request<Game>('POST', gamePath(id, 'uninstall')),
  cancel: (id: string) => request<Game>('POST', gamePath(id, 'cancel')),
  removeFiles: (id: string) => request<Game>('DELETE', gamePath(id, 'files')),

  /** The event stream's URL; the session cookie authenticates it, so no token rides in the address. */
  eventsUrl(): string {
    const url = new URL('/api/events', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    url.search = '';
    return url.toString();
  },
};
