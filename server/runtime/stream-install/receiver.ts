// The receiving side of one streamed-install attempt: send StreamInstall on a
// new stream, read StreamBegin, then the frames, writing each file into
// `destDir` and checking it. The rules (SPEC section 6):
// - every file's bytes must match the CRC32 of its File frame; a zero-byte
//   file with no CRC is taken as CRC 00000000, a non-empty one with none is
//   refused (stream_crc_missing);
// - a file gets exactly its declared size, the stream never more than
//   StreamBegin's total, and End's counts must match what arrived;
// - paths must be canonical safe relative paths (file-sink.ts).
// Every write is awaited before the next frame is read, so a slow disk slows
// the stream down through flow control back to the sender's extractor. Our
// sending direction stays open after the request until End has arrived (then
// FIN): a cancel (signal) or a stall resets it, and that reset is how the
// sender learns at once that it must stop.
import { once } from 'node:events';
import { crc32 } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { WireErrorCode, type StreamControl, type WireAnswer, type WireAnswerOf } from '../../../shared/wire.js';
import { WireError } from '../peers/wire-error.js';
import { EndOfStreamError, FrameTruncatedError, readMessage, writeMessage } from '../transport/framing.js';
import type { TransportConnection, TransportStream } from '../transport/transport.js';
import { StreamInstallError, StreamInstallErrorCode, protocolError } from './errors.js';
import { FileSink } from './file-sink.js';
import { readStreamFrame } from './frames.js';

export type StreamBegin = WireAnswerOf<'StreamBegin'>;

export interface ReceiveOptions {
  signal?: AbortSignal;
  /** the version that was validated; a sender announcing another one is refused */
  expectVersion?: string | null;
  /** called with StreamBegin before anything is written (space checks, progress totals); may throw */
  onBegin?: (begin: StreamBegin) => Promise<void> | void;
  /** called after each data frame is written; may wait (download limit) */
  onData?: (bytes: number) => Promise<void> | void;
  /** the attempt fails when no frame arrives for this long; default 30 s */
  stallTimeoutMs?: number;
}

export interface ReceiveResult {
  files: number;
  dirs: number;
  bytes: number;
}

interface OpenFile {
  path: string;
  size: number;
  expected: string;
  got: number;
  crc: number;
}

const hex32 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** Stream `id` from the peer on `connection` into `destDir` (an empty folder). */
export async function receiveStreamInstall(
  connection: TransportConnection,
  id: string,
  destDir: string,
  opts: ReceiveOptions = {},
): Promise<ReceiveResult> {
  opts.signal?.throwIfAborted();
  const stream = await connection.openStream();
  stream.on('error', () => undefined); // failures surface through the reads
  const stallMs = opts.stallTimeoutMs ?? 30_000;
  let lastFrame = performance.now();
  const watchdog = setInterval(
    () => {
      if (performance.now() - lastFrame > stallMs) {
        stream.destroy(new StreamInstallError(StreamInstallErrorCode.Stalled, `the sender sent nothing for ${stallMs} ms`));
      }
    },
    Math.min(1_000, stallMs),
  );
  const onAbort = (): void => void stream.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const sink = new FileSink(destDir);
  try {
    await writeMessage(stream, { type: 'StreamInstall', id });
    const begin = checkBegin(await readMessage(stream, { maxBytes: 64 * 1024 }), id, opts.expectVersion);
    lastFrame = performance.now();
    await opts.onBegin?.(begin);

    const done: ReceiveResult = { files: 0, dirs: 0, bytes: 0 };
    let file: OpenFile | null = null;
    for (;;) {
      const frame = await readStreamFrame(stream);
      lastFrame = performance.now();
      if (frame.kind === 'data') {
        if (!file) throw protocolError('data frame outside a file');
        if (file.got + frame.bytes.length > file.size) throw protocolError(`"${file.path}" gets more bytes than its ${file.size}`);
        if (done.bytes + frame.bytes.length > begin.bytes_total) throw protocolError(`more bytes than the announced ${begin.bytes_total}`);
        file.crc = crc32(frame.bytes, file.crc);
        file.got += frame.bytes.length;
        done.bytes += frame.bytes.length;
        await sink.write(frame.bytes);
        await opts.onData?.(frame.bytes.length);
        continue;
      }
      const c: StreamControl = frame.control;
      if (c.type === 'Error') throw WireError.fromPeer(c.code, `the sender failed: ${c.message}`);
      if (file && c.type !== 'FileEnd') throw protocolError(`${c.type} frame inside "${file.path}"`);
      switch (c.type) {
        case 'File':
          file = { path: c.path, size: c.size, expected: expectedCrc(c), got: 0, crc: 0 };
          await sink.openFile(c.path);
          break;
        case 'FileEnd':
          if (!file) throw protocolError('FileEnd outside a file');
          if (file.got !== file.size) throw protocolError(`"${file.path}" ended after ${file.got} of ${file.size} bytes`);
          if (hex32(file.crc) !== file.expected) {
            throw new StreamInstallError(
              StreamInstallErrorCode.CrcMismatch,
              `"${file.path}" has CRC32 ${hex32(file.crc)}, the sender announced ${file.expected}`,
            );
          }
          await sink.closeFile();
          done.files++;
          file = null;
          break;
        case 'Dir':
          await sink.dir(c.path);
          done.dirs++;
          break;
        case 'End':
          if (c.files !== done.files || c.dirs !== done.dirs || c.bytes !== done.bytes) {
            throw protocolError(
              `End says ${c.files} files/${c.dirs} folders/${c.bytes} bytes, ${done.files}/${done.dirs}/${done.bytes} arrived`,
            );
          }
          if (done.files !== begin.files || done.dirs !== begin.dirs || done.bytes !== begin.bytes_total) {
            throw protocolError(
              `StreamBegin announced ${begin.files} files/${begin.dirs} folders/${begin.bytes_total} bytes, ${done.files}/${done.dirs}/${done.bytes} arrived`,
            );
          }
          await finishReading(stream);
          return done;
      }
    }
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (err instanceof EndOfStreamError || err instanceof FrameTruncatedError) throw protocolError('the stream ended before End');
    throw err;
  } finally {
    clearInterval(watchdog);
    opts.signal?.removeEventListener('abort', onAbort);
    await sink.dispose();
    if (!stream.writableFinished) stream.destroy(); // not a clean finish: reset both directions
  }
}

/** The CRC a file must have: its own, or 00000000 for an empty file that came with none. */
function expectedCrc(c: Extract<StreamControl, { type: 'File' }>): string {
  if (c.crc32 !== null) return c.crc32;
  if (c.size === 0) return '00000000';
  throw new StreamInstallError(StreamInstallErrorCode.CrcMissing, `"${c.path}" (${c.size} bytes) came without a CRC32`);
}

function checkBegin(answer: unknown, id: string, expectVersion: string | null | undefined): StreamBegin {
  const a = answer as WireAnswer;
  if (typeof a !== 'object' || a === null) throw protocolError('malformed answer');
  if (a.type === 'Error') throw WireError.fromPeer(String(a.code), String(a.message));
  const count = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (a.type !== 'StreamBegin' || a.id !== id || !count(a.files) || !count(a.dirs) || !count(a.bytes_total)) {
    throw new WireError(WireErrorCode.BadRequest, `expected StreamBegin for "${id}", got ${String(a.type).slice(0, 40)}`);
  }
  if (expectVersion !== undefined && a.eti_version !== expectVersion) {
    throw new StreamInstallError(
      StreamInstallErrorCode.VersionMismatch,
      `the sender streams version ${a.eti_version ?? '(none)'}, ${expectVersion ?? '(none)'} was validated`,
    );
  }
  return a;
}

/** After End: take the sender's FIN, then send ours, so neither side sees a reset. Bounded. */
async function finishReading(stream: TransportStream): Promise<void> {
  const bounded = (p: Promise<unknown>): Promise<unknown> =>
    Promise.race([p.catch(() => undefined), sleep(2_000, undefined, { ref: false })]);
  if (!stream.readableEnded) {
    stream.resume();
    await bounded(once(stream, 'end'));
  }
  await bounded(new Promise<void>((resolve) => stream.end(resolve)));
}
