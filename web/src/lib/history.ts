// The node's history of finished operations (GET /api/history at start, then one
// HistoryAdded event per operation), newest first. The node keeps it, so a reload
// shows the same list; entries merge by their sequence number, whichever of the
// snapshot and the events arrives first.
import type { HistoryEntry, HistoryKind, HistoryOutcome } from '../../../shared/api.js';

/** How an outcome reads on the page (and in `data-outcome`). */
export type Outcome = 'finished' | 'failed' | 'cancelled' | 'interrupted';

export const OUTCOMES: Record<HistoryOutcome, Outcome> = {
  ok: 'finished',
  error: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

export const HISTORY_KINDS: Record<HistoryKind, string> = {
  download: 'Download',
  update: 'Update',
  'stream-install': 'Streamed install',
  install: 'Install',
  uninstall: 'Uninstall',
  remove: 'Removal',
};

/** what the node keeps, and so the most the page holds */
export const HISTORY_KEPT = 100;
/** what the transfers panel shows before "show all" */
export const HISTORY_SHOWN = 10;

/** Both lists as one, each entry once, newest first. */
export function mergeHistory(list: readonly HistoryEntry[], incoming: readonly HistoryEntry[]): HistoryEntry[] {
  const bySeq = new Map<number, HistoryEntry>();
  for (const entry of [...list, ...incoming]) bySeq.set(entry.seq, entry);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, HISTORY_KEPT);
}
