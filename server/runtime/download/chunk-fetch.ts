// Fetching one chunk from one peer: its bytes stream from the network to their
// offset in the file, hashed on the way, under the rate limit. The chunk is
// either complete and matching its hash, or the call throws and the bytes it
// counted are taken back from the progress; it never waits longer than the idle
// timeout for the next piece.
import { createHash } from 'node:crypto';
import { requestData } from '../peers/peer-client.js';
import type { ProgressMeter } from '../progress.js';
import type { RateLimiter } from '../transfer/rate-limiter.js';
import type { TransportConnection } from '../transport/transport.js';
import { ChunkWriter } from './chunk-writer.js';
import { CorruptChunkError } from './download-errors.js';
import type { OpenFile } from './download-plan.js';
import type { Chunk } from './scheduler.js';

export interface ChunkFetchContext {
  /** the game's id */
  id: string;
  /** the file the chunk belongs to (its path and where its bytes go) */
  file: OpenFile;
  limiter: RateLimiter;
  meter: ProgressMeter;
  /** no data for this long gives the chunk up */
  idleTimeoutMs: number;
  /** bytes arrived from `peerId` (stats, the progress's peer count) */
  onBytes(peerId: string, bytes: number): void;
}

export interface FetchMode {
  /** ask on this manifest (a swarm source) */
  manifest?: string;
  /** return the verified bytes instead of writing them (an endgame duplicate) */
  aside: boolean;
  signal: AbortSignal;
}

export async function fetchChunk(
  ctx: ChunkFetchContext,
  chunk: Chunk,
  peerId: string,
  connection: TransportConnection,
  mode: FetchMode,
): Promise<Buffer | null> {
  const idle = ctx.idleTimeoutMs;
  const { header, body } = await requestData(
    connection,
    {
      type: 'GetGameFileChunk',
      id: ctx.id,
      path: ctx.file.path,
      offset: chunk.offset,
      length: chunk.length,
      ...(mode.manifest ? { manifest: mode.manifest } : {}),
    },
    { timeoutMs: idle, signal: mode.signal },
  );
  if (header.offset !== chunk.offset || header.length !== chunk.length) throw new Error('peer answered another range');
  const end = chunk.offset + chunk.length;
  const hash = createHash('sha256');
  let pos = chunk.offset;
  let counted = 0;
  const stalled = () => body.destroy(new Error(`no data for ${idle} ms (${pos - chunk.offset} of ${chunk.length} bytes received)`));
  const timer = setTimeout(stalled, idle);
  // a cancelled fetch (the download stopped, or another copy won) stops reading at once
  const cancelled = () => body.destroy(mode.signal.reason instanceof Error ? mode.signal.reason : new Error('cancelled'));
  mode.signal.addEventListener('abort', cancelled, { once: true });
  const writer = mode.aside ? null : new ChunkWriter(ctx.file, chunk.offset);
  const kept: Buffer[] = [];
  try {
    for await (const piece of body as AsyncIterable<Buffer>) {
      timer.refresh(); // restarts the idle timer without a new one per piece
      if (pos + piece.length > end) throw new Error('peer sent more than asked');
      await ctx.limiter.take(piece.length, mode.signal);
      hash.update(piece);
      if (writer) {
        await writer.add(piece);
        counted += piece.length;
        ctx.meter.add(piece.length);
      } else {
        kept.push(piece);
      }
      pos += piece.length;
      ctx.onBytes(peerId, piece.length);
      // The header said how long the answer is: done without waiting for the stream's end.
      if (pos === end) break;
    }
    await writer?.flush();
    if (pos !== end) throw new Error(`chunk cut short at ${pos - chunk.offset} of ${chunk.length} bytes`);
    if (hash.digest('hex') !== chunk.sha256) throw new CorruptChunkError(peerId);
    return writer ? null : Buffer.concat(kept);
  } catch (err) {
    ctx.meter.add(-counted);
    throw err;
  } finally {
    clearTimeout(timer);
    mode.signal.removeEventListener('abort', cancelled);
  }
}

/** Write a chunk's verified bytes at its offset (an endgame duplicate that won). */
export async function writeChunk(ctx: ChunkFetchContext, chunk: Chunk, bytes: Buffer): Promise<void> {
  const writer = new ChunkWriter(ctx.file, chunk.offset);
  await writer.add(bytes);
  await writer.flush();
  ctx.meter.add(bytes.length);
}
