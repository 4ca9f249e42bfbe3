// `lanspread peers | games | status` and the game commands: thin clients of a
// running node's API. Tables for people, `--json` for scripts, a progress bar
// with speed and ETA while an operation runs, and a non-zero exit with one
// clear line on any error.
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import type { Game } from '../../shared/api.js';
import { ErrorCode } from '../../shared/error-codes.js';
import { ApiClient, ApiError } from './api-client.js';
import { bytes, duration, printable } from './format.js';

export interface ClientFlags {
  url: string;
  token?: string;
  json?: boolean;
}

function client(flags: ClientFlags): ApiClient {
  return new ApiClient({ url: flags.url, token: flags.token });
}

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

function state(g: Game): string {
  if (g.operation) return `${g.operation.kind}…`;
  if (g.installed) return g.latestVersion && g.version && g.latestVersion !== g.version ? 'installed (update available)' : 'installed';
  if (g.downloaded) return 'downloaded';
  return g.peers > 0 ? 'available' : '-';
}

export async function gamesCommand(flags: ClientFlags & { all?: boolean }): Promise<void> {
  const games = await client(flags).games();
  if (flags.json) return out(JSON.stringify(games, null, 2));
  const shown = flags.all ? games : games.filter((g) => g.downloaded || g.installed || g.peers > 0 || g.operation);
  const table = new Table({ head: ['id', 'name', 'size', 'state', 'version', 'latest', 'peers'] });
  for (const g of shown)
    table.push([g.id, printable(g.name), bytes(g.size), state(g), g.version ?? '-', g.latestVersion ?? '-', String(g.peers)]);
  out(shown.length > 0 ? table.toString() : 'No games here or on the network yet (use --all to list the whole catalog).');
}

export async function peersCommand(flags: ClientFlags): Promise<void> {
  const peers = await client(flags).peers();
  if (flags.json) return out(JSON.stringify(peers, null, 2));
  if (peers.length === 0) return out('No peers yet. Other nodes appear by mDNS, or add them with serve --peer HOST:PORT.');
  const table = new Table({ head: ['name', 'peer id', 'address', 'games', 'rtt', 'last seen'] });
  for (const p of peers) {
    table.push([
      printable(p.name),
      p.peerId.slice(0, 12),
      p.address,
      String(p.games),
      p.rttMs === null ? '-' : `${p.rttMs.toFixed(1)} ms`,
      p.lastSeen,
    ]);
  }
  out(table.toString());
}

export async function statusCommand(flags: ClientFlags): Promise<void> {
  const api = client(flags);
  const [health, peers, games, stats, settings] = await Promise.all([api.health(), api.peers(), api.games(), api.stats(), api.settings()]);
  const active = games.filter((g) => g.operation);
  if (flags.json)
    return out(
      JSON.stringify(
        {
          ...health,
          peers: peers.length,
          operations: active.map((g) => ({ id: g.id, ...g.operation })),
          stats,
          freeBytes: settings.freeBytes,
        },
        null,
        2,
      ),
    );
  out(`Node "${printable(health.name)}" (${health.peerId}), Lanspread ${health.version}`);
  out(`  peers:      ${peers.length}`);
  out(`  games:      ${games.filter((g) => g.installed).length} installed, ${games.filter((g) => g.downloaded).length} downloaded`);
  out(`  moved:      ${bytes(stats.downloadedBytes)} down, ${bytes(stats.uploadedBytes)} up`);
  const sentTo = peers.filter((p) => p.uploadedBytes > 0).sort((a, b) => b.uploadedBytes - a.uploadedBytes);
  if (sentTo.length > 0) {
    const top = sentTo.slice(0, 5).map((p) => `${printable(p.name)} ${bytes(p.uploadedBytes)}`);
    out(`  sent to:    ${top.join(', ')}${sentTo.length > 5 ? `, and ${sentTo.length - 5} more` : ''}`);
  }
  out(`  free space: ${settings.freeBytes === null ? 'unknown' : bytes(settings.freeBytes)} in ${printable(settings.gameDir)}`);
  for (const g of games.filter((x) => x.noSpace)) out(`  ${g.id}: ${g.noSpace!.message}`);
  for (const g of active) {
    const op = g.operation!;
    const pct = op.bytesTotal > 0 ? ` ${((op.bytesDone / op.bytesTotal) * 100).toFixed(0)}%` : '';
    const from = op.kind === 'download' ? ` from ${op.peers} ${op.peers === 1 ? 'peer' : 'peers'}` : '';
    out(`  ${op.kind} ${g.id}: ${op.phase}${pct}, ${bytes(op.speed)}/s${from}, ETA ${duration(op.etaSeconds)}`);
  }
}

export type GameAction = 'download' | 'update' | 'install' | 'uninstall' | 'cancel' | 'remove';

/** Start an operation and, unless --no-wait or --json, follow it with a progress bar until it ends. */
export async function gameCommand(
  action: GameAction,
  id: string,
  flags: ClientFlags & { stream?: boolean; wait?: boolean },
): Promise<void> {
  const api = client(flags);
  const body = action === 'download' && flags.stream ? { stream: true } : {};
  const started = await api.action(id, action, body);
  if (flags.json) return out(JSON.stringify(started, null, 2));
  if (action === 'cancel') return out(`Cancelled the download of ${id}.`);
  if (started.queued) return out(`${action} of ${id} queued at position ${started.queued.position} (lanspread queue shows the order).`);
  if (flags.wait === false || !started.operation) return out(`${action} of ${id} started.`);

  const interactive = process.stderr.isTTY;
  const bar = new cliProgress.SingleBar(
    {
      format: `${action} ${id} [{bar}] {percentage}% | {done} of {size} | {speed}/s | ETA {eta_h} | {phase}`,
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  if (interactive) bar.start(1, 0, { done: '0 B', size: '?', speed: '0 B', eta_h: '--:--', phase: started.operation.phase });
  // Poll: simple, works through proxies, and the game object has everything.
  let handover = 0;
  for (;;) {
    await sleep(500);
    const g = await api.game(id);
    const op = g.operation;
    // a download hands over to the automatic install: wait for it to show up
    if (!op && action !== 'install' && g.downloaded && !g.installed && !g.lastError && handover++ < 6) continue;
    if (!op) {
      if (interactive) bar.stop();
      if (g.lastError) throw new ApiError(g.lastError.code, `${action} of ${id} failed: ${g.lastError.message}`, 0);
      // no error and nothing new on disk: someone cancelled it (the node keeps no error for a cancel)
      const arrived =
        action === 'download'
          ? g.downloaded || g.installed
          : action === 'update'
            ? g.version !== null && g.version === g.latestVersion
            : true;
      if (!arrived) throw new ApiError(ErrorCode.Cancelled, `${action} of ${id} was cancelled`, 0);
      return out(`${action} of ${id} finished: ${state(g)}${g.version ? ` (version ${g.version})` : ''}.`);
    }
    const payload = {
      done: bytes(op.bytesDone),
      // not `total`: cli-progress fills that one with the bar's own number
      size: op.bytesTotal ? bytes(op.bytesTotal) : '?',
      speed: bytes(op.speed),
      eta_h: duration(op.etaSeconds),
      phase: op.phase,
    };
    if (interactive) {
      bar.setTotal(Math.max(1, op.bytesTotal));
      bar.update(op.bytesDone, payload);
    }
  }
}
