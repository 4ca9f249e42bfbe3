// The CLI's view of a running node: its REST API and event stream, with errors
// turned into one clear line.
import type { ErrorBody, Game, HistoryEntry, Peer, Queue, Settings, Stats } from '../../shared/api.js';
import { ClientErrorCode, ErrorCode, type ClientSideCode } from '../../shared/error-codes.js';

export class ApiError extends Error {
  constructor(
    readonly code: ClientSideCode,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ClientOptions {
  url: string;
  token?: string | undefined;
}

export class ApiClient {
  private readonly base: URL;

  constructor(private readonly opts: ClientOptions) {
    this.base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
  }

  health = () => this.call<{ ok: boolean; peerId: string; name: string; version: string }>('GET', 'api/health');
  peers = () => this.call<Peer[]>('GET', 'api/peers');
  games = () => this.call<Game[]>('GET', 'api/games');
  game = (id: string) => this.call<Game>('GET', `api/games/${encodeURIComponent(id)}`);
  stats = () => this.call<Stats>('GET', 'api/stats');
  settings = () => this.call<Settings>('GET', 'api/settings');
  queue = () => this.call<Queue>('GET', 'api/queue');
  moveQueued = (id: string, position: number) => this.call<Queue>('POST', `api/queue/${encodeURIComponent(id)}/move`, { position });
  removeQueued = (id: string) => this.call<Queue>('DELETE', `api/queue/${encodeURIComponent(id)}`);
  history = () => this.call<HistoryEntry[]>('GET', 'api/history');

  action(id: string, action: 'download' | 'update' | 'install' | 'uninstall' | 'cancel' | 'remove', body: object = {}): Promise<Game> {
    if (action === 'remove') return this.call<Game>('DELETE', `api/games/${encodeURIComponent(id)}/files`);
    return this.call<Game>('POST', `api/games/${encodeURIComponent(id)}/${action}`, body);
  }

  private async call<T>(method: string, path: string, body?: object): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.base), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch {
      throw new ApiError(ClientErrorCode.Unreachable, `no Lanspread node answers at ${this.base.origin} (is it running? try --url)`, 0);
    }
    const json = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
    if (!res.ok) {
      const err = json?.error;
      throw new ApiError(err?.code ?? ErrorCode.Internal, err?.message ?? `HTTP ${res.status}`, res.status);
    }
    return json as T;
  }
}
