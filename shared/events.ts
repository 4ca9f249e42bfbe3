// The one event map: emitted by the runtime, pushed as-is over the WebSocket
// (`/api/events`, one JSON message `{type, ...}` per event) and read by the web store.
import type { ActiveOperation, ErrorInfo, Game, GameFile, HistoryEntry, Peer, Queue, ThroughputSample } from './api.js';

/** What the local scan found for one catalog game in the game dir. */
export interface LocalGame {
  id: string;
  downloaded: boolean;
  installed: boolean;
  /** content of version.ini when downloaded */
  version: string | null;
  /** bytes of the game root outside local/ and the owned dot-folders */
  size: number;
}

/** Progress of a transfer, as carried by the progress events. */
export interface TransferProgress {
  bytesDone: number;
  bytesTotal: number;
  /** bytes per second, averaged */
  speed: number;
  etaSeconds: number | null;
  /** peers actively sending */
  peers: number;
}

export type PeerEvent =
  /** the local library changed (a scan found something different) */
  | { type: 'LocalLibraryChanged'; games: LocalGame[] }
  /** the aggregated library (catalog × local × peers × operations) changed */
  | { type: 'LibraryChanged'; games: Game[] }
  | { type: 'OperationsChanged'; operations: ActiveOperation[] }
  | { type: 'GotGameFiles'; id: string; files: GameFile[] }
  | { type: 'DownloadGameFilesBegin'; id: string; bytesTotal: number }
  | ({ type: 'DownloadGameFilesProgress'; id: string } & TransferProgress)
  | { type: 'DownloadGameFilesFinished'; id: string }
  | { type: 'DownloadGameFilesFailed'; id: string; error: ErrorInfo }
  | { type: 'DownloadGameFilesCancelled'; id: string }
  | { type: 'DownloadPeersGone'; id: string }
  | { type: 'InstallGameBegin'; id: string }
  | { type: 'InstallGameFinished'; id: string }
  | { type: 'InstallGameFailed'; id: string; error: ErrorInfo }
  /** streamed install (SPEC section 6): bytes written into staging from the current peer */
  | ({ type: 'StreamInstallProgress'; id: string } & TransferProgress)
  /** one peer's attempt failed and was rolled back; the next validated peer is tried */
  | { type: 'StreamInstallPeerFailed'; id: string; peerId: string; error: ErrorInfo }
  | { type: 'StreamInstallCancelled'; id: string }
  | { type: 'UninstallGameBegin'; id: string }
  | { type: 'UninstallGameFinished'; id: string }
  | { type: 'UninstallGameFailed'; id: string; error: ErrorInfo }
  | { type: 'PeerConnected'; peer: Peer }
  | { type: 'PeerDisconnected'; peerId: string }
  | { type: 'PeerCount'; count: number }
  | { type: 'RuntimeFailure'; error: ErrorInfo }
  /** the transfer queue changed (an item added, moved, removed or started, or the setting) */
  | { type: 'QueueChanged'; queue: Queue }
  /** an operation ended and was added to the node's history */
  | { type: 'HistoryAdded'; entry: HistoryEntry }
  /** one throughput sample (every second) */
  | { type: 'StatsSample'; sample: ThroughputSample };

export type PeerEventType = PeerEvent['type'];
export type PeerEventOf<T extends PeerEventType> = Extract<PeerEvent, { type: T }>;
