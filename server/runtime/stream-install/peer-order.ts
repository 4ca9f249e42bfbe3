// Which validated peer a receiver asks first. Every receiver ranks the peers by
// a hash of (its own id, the game, the peer), so one receiver always asks in
// the same order (tests can predict it) while different receivers start with
// different senders, spreading a LAN party's streamed installs over the seeds.
import { createHash } from 'node:crypto';
import type { ValidatedGame } from '../transfer/validate.js';

export function orderSenders(selfId: string, gameId: string, peers: readonly string[]): string[] {
  const rank = (peerId: string): string => createHash('sha256').update(`${selfId}\n${gameId}\n${peerId}`).digest('hex');
  return [...peers].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** The peers whose copy matches the majority on every file of the game: only they may stream it. */
export function validatedPeers(plan: ValidatedGame): string[] {
  if (plan.files.length === 0) return [];
  let agreed = new Set(plan.files[0]!.peers);
  for (const f of plan.files.slice(1)) agreed = new Set(f.peers.filter((p) => agreed.has(p)));
  return [...agreed];
}
