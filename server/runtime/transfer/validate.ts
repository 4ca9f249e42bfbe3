// Majority validation of the file lists that catalog-version peers report: for
// every path, the (size, chunk hashes) that most peers agree on wins, and a
// peer that reports anything else is not used for that file. Ties are broken by
// the sorted peer ids, so every node decides the same way.
import { createHash } from 'node:crypto';
import type { WireFile } from '../../../shared/wire.js';
import { isReservedRootName } from '../library/scanner.js';
import { chunkCount } from '../content/chunks.js';

export interface ValidatedFile {
  path: string;
  size: number;
  chunkSize: number;
  sha256: string[];
  /** peers whose copy matches */
  peers: string[];
}

export interface ValidatedGame {
  dirs: string[];
  files: ValidatedFile[];
  /** files no peer offered consistently (bad hash lists, unsafe paths), with why */
  rejected: { path: string; reason: string }[];
}

const SAFE_SEGMENT = /^[^/\\\0]+$/;

/** A path a peer may make us write: relative, `/`-separated, no `.`/`..`, not reserved. */
export function isSafeRelativePath(p: string): boolean {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096 || p.startsWith('/')) return false;
  const segments = p.split('/');
  if (segments.some((s) => !SAFE_SEGMENT.test(s) || s === '.' || s === '..')) return false;
  return !isReservedRootName(segments[0] as string);
}

export function validateFileLists(lists: ReadonlyMap<string, readonly WireFile[]>): ValidatedGame {
  const votes = new Map<string, Map<string, { file: WireFile; peers: string[] }>>();
  const dirs = new Set<string>();
  const rejected: { path: string; reason: string }[] = [];
  const peerIds = [...lists.keys()].sort();
  for (const peerId of peerIds) {
    for (const f of lists.get(peerId) ?? []) {
      if (!isSafeRelativePath(f.path)) {
        rejected.push({ path: String(f.path).slice(0, 200), reason: `unsafe path from ${peerId}` });
        continue;
      }
      if (f.is_dir) {
        dirs.add(f.path);
        continue;
      }
      if (!wellFormed(f)) {
        rejected.push({ path: f.path, reason: `malformed entry from ${peerId}` });
        continue;
      }
      const key = createHash('sha256')
        .update(`${f.size}:${f.chunk_size}:${(f.sha256 ?? []).join(',')}`)
        .digest('hex');
      let byKey = votes.get(f.path);
      if (!byKey) votes.set(f.path, (byKey = new Map()));
      const vote = byKey.get(key);
      if (vote) vote.peers.push(peerId);
      else byKey.set(key, { file: f, peers: [peerId] });
    }
  }
  const files: ValidatedFile[] = [];
  for (const [p, byKey] of [...votes.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const winner = [...byKey.values()].sort((a, b) => b.peers.length - a.peers.length || (a.peers[0]! < b.peers[0]! ? -1 : 1))[0]!;
    files.push({ path: p, size: winner.file.size, chunkSize: winner.file.chunk_size!, sha256: winner.file.sha256!, peers: winner.peers });
  }
  const filePaths = new Set(files.map((f) => f.path));
  return { dirs: [...dirs].filter((d) => !filePaths.has(d)).sort(), files, rejected };
}

function wellFormed(f: WireFile): boolean {
  return (
    Number.isSafeInteger(f.size) &&
    f.size >= 0 &&
    Number.isSafeInteger(f.chunk_size) &&
    (f.chunk_size ?? 0) >= 64 * 1024 &&
    (f.chunk_size ?? 0) <= 64 * 1024 * 1024 &&
    Array.isArray(f.sha256) &&
    f.sha256.length === chunkCount(f.size, f.chunk_size!) &&
    f.sha256.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
  );
}
