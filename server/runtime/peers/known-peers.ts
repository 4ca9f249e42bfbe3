// Binds each peer id to the key it was first seen with (trust on first use):
// once a peer id has been seen with a key, a Hello claiming it with another key
// is refused. Kept in `<state dir>/known-peers.json`, so the binding survives
// restarts.
import path from 'node:path';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';
import type { Logger } from '../logger.js';

const MAX_KNOWN = 10_000;

export class KnownPeers {
  private readonly file: string;
  private keys = new Map<string, string>();
  private saving: Promise<void> = Promise.resolve();

  constructor(
    stateDir: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(stateDir, 'known-peers.json');
  }

  async load(): Promise<void> {
    try {
      const json = await readJsonFile(this.file);
      if (json && typeof json === 'object') {
        this.keys = new Map(Object.entries(json as Record<string, string>).filter(([, v]) => typeof v === 'string'));
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'known-peers.json unreadable; starting afresh');
    }
  }

  /**
   * True when `fingerprint` may use `peerId`: first sight (remembered now) or
   * the same key as before. A transport without keys (null) is not checked.
   */
  accept(peerId: string, fingerprint: string | null): boolean {
    if (fingerprint === null) return true;
    const known = this.keys.get(peerId);
    if (known !== undefined) return known === fingerprint;
    if (this.keys.size >= MAX_KNOWN) return true; // stop growing; still serve
    this.keys.set(peerId, fingerprint);
    const snapshot = JSON.stringify(Object.fromEntries(this.keys));
    this.saving = this.saving
      .then(() => writeFileAtomic(this.file, snapshot))
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'cannot save known peers'));
    return true;
  }

  async flush(): Promise<void> {
    await this.saving;
  }
}
