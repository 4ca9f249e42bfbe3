// `lanspread queue [move|remove]` and `lanspread history`: the node's transfer
// queue and its finished operations, as tables for people and `--json` for
// scripts. Thin clients of /api/queue and /api/history.
import Table from 'cli-table3';
import type { HistoryEntry, Queue } from '../../shared/api.js';
import { ErrorCode } from '../../shared/error-codes.js';
import { LanspreadError } from '../runtime/errors.js';
import { ApiClient } from './api-client.js';
import type { ClientFlags } from './client-commands.js';
import { bytes, duration } from './format.js';

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

const client = (flags: ClientFlags) => new ApiClient({ url: flags.url, token: flags.token });

function printQueue(queue: Queue, flags: ClientFlags): void {
  if (flags.json) return out(JSON.stringify(queue, null, 2));
  const running = `${queue.active} of ${queue.maxActive} transfer${queue.maxActive === 1 ? '' : 's'} running`;
  if (queue.items.length === 0) return out(`The queue is empty (${running}).`);
  const table = new Table({ head: ['#', 'id', 'kind', 'then install', 'queued at'] });
  for (const item of queue.items) table.push([String(item.position), item.id, item.kind, item.install ? 'yes' : 'no', item.queuedAt]);
  out(`${table.toString()}\n${running}; #1 starts next.`);
}

export async function queueCommand(flags: ClientFlags): Promise<void> {
  printQueue(await client(flags).queue(), flags);
}

export async function queueMoveCommand(id: string, position: string, flags: ClientFlags): Promise<void> {
  const n = Number(position);
  if (!/^\d+$/.test(position) || n < 1) {
    throw new LanspreadError(ErrorCode.BadRequest, `position must be a whole number from 1, got "${position}"`);
  }
  printQueue(await client(flags).moveQueued(id, n), flags);
}

export async function queueRemoveCommand(id: string, flags: ClientFlags): Promise<void> {
  printQueue(await client(flags).removeQueued(id), flags);
}

export async function historyCommand(flags: ClientFlags & { limit?: string }): Promise<void> {
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new LanspreadError(ErrorCode.BadRequest, `--limit must be a whole number from 1, got "${flags.limit}"`);
  }
  const entries: HistoryEntry[] = (await client(flags).history()).slice(0, limit);
  if (flags.json) return out(JSON.stringify(entries, null, 2));
  if (entries.length === 0) return out('Nothing has finished on this node yet.');
  const table = new Table({ head: ['ended', 'id', 'kind', 'outcome', 'bytes', 'took', 'error'] });
  for (const e of entries) {
    table.push([e.endedAt, e.id, e.kind, e.outcome, bytes(e.bytes), duration(e.durationMs / 1000), e.error ? e.error.code : '']);
  }
  out(table.toString());
}
