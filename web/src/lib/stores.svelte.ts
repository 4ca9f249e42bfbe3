// The dashboard's live state: one store per concern (connection, library, peers,
// operations, queue, history, throughput, notices), fed by REST snapshots and the `/api/events` stream. The
// stream is the source of truth while it is open; REST fills in at start and after
// every reconnect, and a REST answer never overwrites a newer event.
import type { ActiveOperation, ErrorInfo, Game, Health, HistoryEntry, Peer, Queue, Stats, ThroughputSample } from '../../../shared/api.js';
import type { PeerEvent } from '../../../shared/events.js';
import { api, onUnauthorized } from './api.js';
import { EventSocket } from './event-socket.js';
import { mergeSamples } from './graph.js';
import { mergeHistory } from './history.js';
import { applyError, applyOperations, applyProgress } from './library.js';
import { adoptTokenFromLocation, setToken } from './token.js';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'unauthorized';

class ConnectionStore {
  state = $state<ConnectionState>('connecting');
  health = $state.raw<Health | null>(null);
  /** from PeerCount events; falls back to the peer list's length */
  peerCount = $state<number | null>(null);
}

class LibraryStore {
  games = $state.raw<Game[]>([]);
  loaded = $state(false);
  /** counts LibraryChanged events, so a slower REST answer cannot undo a newer snapshot */
  epoch = 0;
}

class PeersStore {
  list = $state.raw<Peer[]>([]);
  loaded = $state(false);
}

class OperationsStore {
  list = $state.raw<ActiveOperation[]>([]);
}

class HistoryStore {
  /** the node's finished operations, newest first */
  list = $state.raw<HistoryEntry[]>([]);
  loaded = $state(false);

  add(entries: HistoryEntry[]): void {
    this.list = mergeHistory(this.list, entries);
  }
}

class QueueStore {
  value = $state.raw<Queue>({ maxActive: 1, active: 0, items: [] });
  /** counts QueueChanged events, so a slower REST answer cannot undo a newer one */
  epoch = 0;
}

/** How many samples the graphs hold: the node keeps 5 minutes at one a second. */
export const THROUGHPUT_KEPT = 300;

class ThroughputStore {
  samples = $state.raw<ThroughputSample[]>([]);
  intervalMs = $state(1000);

  add(incoming: ThroughputSample[]): void {
    this.samples = mergeSamples(this.samples, incoming, THROUGHPUT_KEPT);
  }
}

class StatsStore {
  /** bytes moved since the node started, in total and per peer */
  value = $state.raw<Stats | null>(null);
}

export interface Notice {
  id: number;
  /** error: something failed · success: something finished · info: anything else */
  kind: 'error' | 'success' | 'info';
  text: string;
}

class NoticesStore {
  list = $state.raw<Notice[]>([]);
  private next = 1;

  push(kind: Notice['kind'], text: string): void {
    const id = this.next++;
    this.list = [...this.list.slice(-4), { id, kind, text }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 15_000 : 6_000);
  }

  dismiss(id: number): void {
    this.list = this.list.filter((notice) => notice.id !== id);
  }
}

export const connection = new ConnectionStore();
export const library = new LibraryStore();
export const peers = new PeersStore();
export const operations = new OperationsStore();
export const notices = new NoticesStore();
export const history = new HistoryStore();
export const queue = new QueueStore();
export const throughput = new ThroughputStore();
export const stats = new StatsStore();

/** How often the peer list (rtt, last seen) is refreshed; peers have no event for these. */
const PEERS_REFRESH_MS = 5_000;

let socket: EventSocket | null = null;

/** Starts the live connection; returns the function that stops it. */
export function startLive(): () => void {
  adoptTokenFromLocation();
  onUnauthorized(() => {
    connection.state = 'unauthorized';
    socket?.pause();
  });
  socket = new EventSocket({
    url: () => api.eventsUrl(),
    onEvent: handleEvent,
    onOpen: () => {
      connection.state = 'online';
      void refreshAll();
    },
    onClose: (opened) => {
      if (connection.state === 'unauthorized') return;
      if (connection.state === 'online') connection.state = 'reconnecting';
      // A WebSocket rejected at upgrade looks like any other failure; ask over HTTP
      // whether the node wants a token (a 401 there pauses the socket).
      if (!opened) void api.health().catch(() => undefined);
    },
  });
  socket.start();
  void refreshAll();
  const timer = setInterval(() => {
    if (connection.state === 'online') void Promise.all([refreshPeers(), refreshStats()]);
  }, PEERS_REFRESH_MS);

  return () => {
    clearInterval(timer);
    socket?.stop();
    socket = null;
    onUnauthorized(null);
  };
}

/** Use a token typed by the user, then reconnect everything with it. */
export function submitToken(token: string): void {
  setToken(token);
  connection.state = 'connecting';
  socket?.resume();
  void refreshAll();
}

export async function refreshAll(): Promise<void> {
  await Promise.all([
    refreshHealth(),
    refreshGames(),
    refreshPeers(),
    refreshOperations(),
    refreshQueue(),
    refreshHistory(),
    refreshThroughput(),
    refreshStats(),
  ]);
}

export async function refreshHealth(): Promise<void> {
  try {
    connection.health = await api.health();
  } catch {
    // the connection state already tells the user
  }
}

export async function refreshGames(): Promise<void> {
  const epoch = library.epoch;
  try {
    const games = await api.games();
    if (library.epoch !== epoch) return; // an event delivered something newer meanwhile
    library.games = games;
    library.loaded = true;
  } catch {
    // shown through the connection state
  }
}

async function refreshPeers(): Promise<void> {
  try {
    peers.list = await api.peers();
    peers.loaded = true;
  } catch {
    // shown through the connection state
  }
}

async function refreshOperations(): Promise<void> {
  try {
    operations.list = await api.operations();
  } catch {
    // shown through the connection state
  }
}

async function refreshQueue(): Promise<void> {
  const epoch = queue.epoch;
  try {
    const value = await api.queue();
    if (queue.epoch === epoch) queue.value = value;
  } catch {
    // shown through the connection state
  }
}

async function refreshHistory(): Promise<void> {
  try {
    history.add(await api.history());
    history.loaded = true;
  } catch {
    // shown through the connection state
  }
}

async function refreshThroughput(): Promise<void> {
  try {
    const { intervalMs, samples } = await api.statsHistory();
    throughput.intervalMs = intervalMs;
    throughput.add(samples);
  } catch {
    // shown through the connection state
  }
}

async function refreshStats(): Promise<void> {
  try {
    stats.value = await api.stats();
  } catch {
    // shown through the connection state
  }
}

/** Show a queue the node just answered with (a move or a removal), unless an event already said more. */
export function setQueue(value: Queue, epoch: number): void {
  if (queue.epoch === epoch) queue.value = value;
}

function gameName(id: string): string {
  return library.games.find((game) => game.id === id)?.name ?? id;
}

function failed(id: string, what: string, error: ErrorInfo): void {
  library.games = applyError(library.games, id, error);
  notices.push('error', `${what} of ${gameName(id)} failed: ${error.message}`);
}

export function handleEvent(event: PeerEvent): void {
  switch (event.type) {
    case 'QueueChanged':
      queue.epoch += 1;
      queue.value = event.queue;
      break;
    case 'HistoryAdded':
      history.add([event.entry]);
      break;
    case 'StatsSample':
      throughput.add([event.sample]);
      break;
    case 'LibraryChanged':
      library.epoch += 1;
      library.games = event.games;
      library.loaded = true;
      break;
    case 'OperationsChanged':
      operations.list = event.operations;
      library.games = applyOperations(library.games, event.operations);
      break;
    case 'DownloadGameFilesProgress':
    case 'StreamInstallProgress':
      library.games = applyProgress(library.games, event);
      break;
    case 'DownloadGameFilesFinished':
      notices.push('success', `${gameName(event.id)} is downloaded.`);
      break;
    case 'UninstallGameFinished':
      notices.push('success', `${gameName(event.id)} is uninstalled.`);
      break;
    case 'StreamInstallCancelled':
      notices.push('info', `Streamed install of ${gameName(event.id)} cancelled.`);
      break;
    case 'StreamInstallPeerFailed':
      notices.push('info', `A peer failed to stream ${gameName(event.id)} (${event.error.message}); trying the next one.`);
      break;
    case 'DownloadGameFilesFailed':
      failed(event.id, 'Download', event.error);
      break;
    case 'InstallGameFailed':
      failed(event.id, 'Install', event.error);
      break;
    case 'UninstallGameFailed':
      failed(event.id, 'Uninstall', event.error);
      break;
    case 'DownloadPeersGone':
      notices.push('error', `Download of ${gameName(event.id)} stopped: no peer has it any more.`);
      break;
    case 'DownloadGameFilesCancelled':
      notices.push('info', `Download of ${gameName(event.id)} cancelled.`);
      break;
    case 'InstallGameFinished':
      notices.push('success', `${gameName(event.id)} is installed.`);
      break;
    case 'RuntimeFailure':
      notices.push('error', event.error.message);
      break;
    case 'PeerConnected':
      peers.list = [...peers.list.filter((p) => p.peerId !== event.peer.peerId), event.peer];
      break;
    case 'PeerDisconnected':
      peers.list = peers.list.filter((p) => p.peerId !== event.peerId);
      break;
    case 'PeerCount':
      connection.peerCount = event.count;
      break;
    default:
      break; // lifecycle events are reflected by the snapshots that follow them
  }
}

/** Runs a game action, turning failures into a message for the card that asked. */
export async function runAction(action: () => Promise<Game>): Promise<string | null> {
  const epoch = library.epoch;
  try {
    const game = await action();
    // The 202 answer shows the operation as started; keep it unless an event already said more.
    if (library.epoch === epoch && game && typeof game === 'object' && 'id' in game) {
      library.games = library.games.map((g) => (g.id === game.id ? { ...g, ...game } : g));
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
