// The recent outcomes of operations (finished, failed, cancelled) for the transfers
// view, newest first. Only what this page saw over the event stream: the node keeps
// no history, so a reload starts it empty.
import type { OperationKind } from '../../../shared/api.js';
import type { PeerEvent } from '../../../shared/events.js';

export type Outcome = 'finished' | 'failed' | 'cancelled';

export interface HistoryEntry {
  /** unique per page, for keyed lists */
  key: number;
  id: string;
  kind: OperationKind;
  outcome: Outcome;
  /** the failure's message */
  message: string | null;
  at: number;
}

export const HISTORY_LENGTH = 10;

/** The outcome an event reports, or null for events that are not an operation's end. */
export function outcomeOf(event: PeerEvent): Omit<HistoryEntry, 'key' | 'at'> | null {
  switch (event.type) {
    case 'DownloadGameFilesFinished':
      return { id: event.id, kind: 'download', outcome: 'finished', message: null };
    case 'DownloadGameFilesFailed':
      return { id: event.id, kind: 'download', outcome: 'failed', message: event.error.message };
    case 'DownloadGameFilesCancelled':
      return { id: event.id, kind: 'download', outcome: 'cancelled', message: null };
    case 'StreamInstallCancelled':
      return { id: event.id, kind: 'stream-install', outcome: 'cancelled', message: null };
    case 'InstallGameFinished':
      return { id: event.id, kind: 'install', outcome: 'finished', message: null };
    case 'InstallGameFailed':
      return { id: event.id, kind: 'install', outcome: 'failed', message: event.error.message };
    case 'UninstallGameFinished':
      return { id: event.id, kind: 'uninstall', outcome: 'finished', message: null };
    case 'UninstallGameFailed':
      return { id: event.id, kind: 'uninstall', outcome: 'failed', message: event.error.message };
    default:
      return null;
  }
}

export function addToHistory(history: HistoryEntry[], entry: HistoryEntry, max = HISTORY_LENGTH): HistoryEntry[] {
  return [entry, ...history].slice(0, max);
}
