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
  signal: AbortSignal;
  /** no data for this long gives the chunk up */
  idleTimeoutMs: number;
  /** bytes arrived from `peerId` (stats, the progress's peer count) */
  onBytes(peerId: string, bytes: number): void;
}

export async function fetchChunk(ctx: ChunkFetchContext, chunk: Chunk, peerId: string, connection: TransportConnection): Promise<void> {
  const idle = ctx.idleTimeoutMs;
  const { header, body } = await requestData(
    connection,
    { type: 'GetGameFileChunk', id: ctx.id, path: ctx.file.path, offset: chunk.offset, length: chunk.length },
    { timeoutMs: idle, signal: ctx.signal },
  );
  if (header.offset !== chunk.offset || header.length !== chunk.length) throw new Error('peer answered another range');
  const end = chunk.offset + chunk.length;
  const hash = createHash('sha256');
  let pos = chunk.offset;
  let counted = 0;
  const stalled = () => body.destroy(new Error(`no data for ${idle} ms (${pos - chunk.offset} of ${chunk.length} bytes received)`));
  const timer = setTimeout(stalled, idle);
  const writer = new ChunkWriter(ctx.file, chunk.offset);
  try {
    for await (const piece of body as AsyncIterable<Buffer>) {
      timer.refresh(); // restarts the idle timer without a new one per piece
      if (pos + piece.length > end) throw new Error('peer sent more than asked');
      await ctx.limiter.take(piece.length, ctx.signal);
      hash.update(piece);
      await writer.add(piece);
      pos += piece.length;
      counted += piece.length;
      ctx.meter.add(piece.length);
      ctx.onBytes(peerId, piece.length);
      // The header said how long the answer is: done without waiting for the stream's end.
      if (pos === end) break;
    }
    await writer.flush();
    if (pos !== end) throw new Error(`chunk cut short at ${pos - chunk.offset} of ${chunk.length} bytes`);
    if (hash.digest('hex') !== chunk.sha256) throw new CorruptChunkError(peerId);
  } catch (err) {
    ctx.meter.add(-counted);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
