// What a download and a streamed install both do before fetching anything
// (SPEC section 5, steps 1-2): pick the peers that announce the newest version,
// then ask each for its file list and keep what the majority agrees on.
import { ErrorCode } from '../../../shared/error-codes.js';
import type { PeerEvent } from '../../../shared/events.js';
import { newestVersion } from '../../../shared/version.js';
import type { WireFile } from '../../../shared/wire.js';
import { FILE_LIST_TIMEOUT_MS } from '../constants.js';
import { LanspreadError } from '../errors.js';
import type { Catalog } from '../library/catalog.js';
import type { Logger } from '../logger.js';
import { request } from '../peers/peer-client.js';
import type { PeerGameDB } from '../peers/peer-game-db.js';
import type { PeerNetwork } from '../peers/peer-network.js';
import { validateFileLists, type ValidatedGame } from './validate.js';

export interface FileListDeps {
  network: PeerNetwork;
  emit: (event: PeerEvent) => void;
  logger: Logger;
}

/** The newest version of `id` known (catalog or peers) and the peers that announce exactly it. */
export function catalogVersionSources(catalog: Catalog, db: PeerGameDB, id: string): { version: string | null; sources: string[] } {
  const all = db.sources(id);
  const version = newestVersion([catalog.get(id)?.eti_version, ...all.map((s) => s.version)]);
  return { version, sources: all.filter((s) => s.version === version).map((s) => s.peerId) };
}

/**
 * Steps 1–2 of SPEC section 5, shared by downloads and streamed installs: the
 * file lists of `sources` (GetGame), kept in the peer DB, majority-validated;
 * emits GotGameFiles. Fails with peers_gone when no peer answered.
 */
export async function fetchValidatedFileList(
  deps: FileListDeps,
  id: string,
  version: string,
  sources: string[],
  signal: AbortSignal,
): Promise<ValidatedGame> {
  const lists = new Map<string, WireFile[]>();
  await Promise.all(
    sources.map(async (peerId) => {
      const connection = deps.network.manager.get(peerId)?.connection;
      if (!connection) return;
      try {
        const answer = await request(connection, { type: 'GetGame', id }, 'GameFiles', { timeoutMs: FILE_LIST_TIMEOUT_MS, signal });
        if (answer.eti_version !== version) return; // it changed meanwhile
        deps.network.db.setFiles(peerId, id, answer.eti_version, answer.files);
        lists.set(peerId, answer.files);
      } catch (err) {
        deps.logger.warn({ id, peerId, err: (err as Error).message }, 'GetGame failed');
      }
    }),
  );
  signal.throwIfAborted();
  if (lists.size === 0) throw new LanspreadError(ErrorCode.PeersGone, `no peer answered with the file list of "${id}"`);
  const plan = validateFileLists(lists);
  for (const r of plan.rejected) deps.logger.warn({ id, ...r }, 'file entry rejected');
  if (!plan.files.some((f) => f.path === 'version.ini')) {
    throw new LanspreadError(ErrorCode.BadFileList, `the peers’ file list of "${id}" has no version.ini`);
  }
  deps.emit({
    type: 'GotGameFiles',
    id,
    files: [
      ...plan.dirs.map((d) => ({ path: d, size: 0, isDir: true })),
      ...plan.files.map((f) => ({ path: f.path, size: f.size, isDir: false })),
    ],
  });
  return plan;
}
