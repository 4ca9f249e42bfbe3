// The sending side of a streamed install (SPEC section 6). For one
// StreamInstall request: take a transfer guard for the game, open its archives
// through ServedFiles (the same serving rules as any file request), run the
// streaming extraction's preflight, answer StreamBegin, then move records from
// the extraction ring to the stream as frames.
//
// Backpressure is end to end: a frame is written only when the stream takes
// it (else we wait for 'drain'), and until it is written no record is taken
// from the ring, so the worker blocks on a full ring. When the receiver
// cancels or disconnects, the stream closes: the pump stops at once, closes
// the ring (which wakes the blocked worker so it stops), waits for the worker
// to exit and only then releases the guard. Nothing after StreamBegin may
// throw to the protocol server (its error answer would be misread as a
// frame): a failure is sent as an Error frame, or the stream is reset.
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { WireErrorCode, type StreamControl, type WireAnswer } from '../../../shared/wire.js';
import { ExtractError, ExtractErrorCode } from '../extract/unpacker.js';
import { archiveFiles } from '../extract/rar-volumes.js';
import { startStreamExtraction, type StreamExtraction, type StreamExtractionOptions } from '../extract/rar-stream-extraction.js';
import type { StreamRecord } from '../extract/rar-stream-protocol.js';
import type { Logger } from '../logger.js';
import type { OpenedFile, ServedFiles } from '../peers/served-files.js';
import { WireError } from '../peers/wire-error.js';
import { writeMessage } from '../transport/framing.js';
import type { TransportConnection, TransportStream } from '../transport/transport.js';
import { encodeControl, encodeData } from './frames.js';
import { TransferGuards } from './transfer-guards.js';

/** Test-only switch: `1` flips the first byte of every data frame this node sends. Never set it in production. */
export const CORRUPT_ENV = 'LANSPREAD_TEST_STREAM_CORRUPT';

export interface StreamSenderOptions {
  logger: Logger;
  /** file bytes about to go to this connection's peer (upload limit, stats); may wait */
  onUpload?: (connection: TransportConnection, bytes: number) => Promise<void> | void;
  guards?: TransferGuards;
  extraction?: StreamExtractionOptions;
  /** a receiver that takes no bytes for this long is dropped; default 60 s */
  stallTimeoutMs?: number;
  /** test-only: corrupt every data frame (default: the LANSPREAD_TEST_STREAM_CORRUPT switch) */
  corruptData?: boolean;
}

type Outcome = 'sent' | 'cancelled' | 'stalled' | 'failed';

/** The receiver went away (stream closed or reset); not an error of ours. */
class ReceiverGone extends Error {}

export class StreamInstallSender {
  readonly guards: TransferGuards;
  private readonly corrupt: boolean;

  constructor(
    private readonly served: ServedFiles,
    private readonly opts: StreamSenderOptions,
  ) {
    this.guards = opts.guards ?? new TransferGuards();
    this.corrupt = opts.corruptData ?? process.env[CORRUPT_ENV] === '1';
  }

  /** Answer one StreamInstall request on `stream`. Throws (for an error answer) only before StreamBegin. */
  async send(connection: TransportConnection, stream: TransportStream, id: string): Promise<void> {
    const release = this.guards.acquire(id);
    const handles: OpenedFile[] = [];
    let extraction: StreamExtraction | null = null;
    let result: { outcome: Outcome; bytes: number } = { outcome: 'failed', bytes: 0 };
    const receiver = watchReceiver(stream);
    try {
      const { eti_version, files } = await this.served.files(id);
      const archives = archivesOf(files.filter((f) => !f.is_dir).map((f) => f.path));
      if (archives.length === 0) throw new WireError(WireErrorCode.NotServed, `"${id}" has no archive to stream`);
      for (const rel of archives) handles.push(await this.served.open(id, rel));
      const paths = handles.map((h) => pinnedPath(h.handle.fd));
      if (paths.some((p) => p === null)) throw new WireError(WireErrorCode.NotServed, 'streamed installs are not served on this platform');
      extraction = startStreamExtraction(
        archives.map((rel, i) => ({ path: paths[i]!, label: rel })),
        this.opts.extraction,
      );
      const plan = await extraction.plan.catch((err: unknown) => {
        throw err instanceof ExtractError ? new WireError(err.code, err.message) : err;
      });
      const begin: WireAnswer = { type: 'StreamBegin', id, eti_version, files: plan.files, dirs: plan.dirs, bytes_total: plan.bytes };
      await writeMessage(stream, begin);
      this.opts.logger.info({ id, files: plan.files, bytes: plan.bytes, archives: archives.length }, 'streaming an install to a peer');
      result = await this.pump(connection, stream, extraction, receiver);
    } finally {
      receiver.dispose();
      extraction?.abort(); // a no-op once it finished; otherwise wakes and stops the worker
      const workerError = extraction ? await extraction.exited : null;
      await Promise.all(handles.map((h) => h.handle.close().catch(() => undefined)));
      release();
      this.opts.logger.info(
        {
          id,
          outcome: result.outcome,
          bytes: result.bytes,
          workerRunning: extraction?.running ?? false,
          workerStopped: workerError?.code ?? null,
          activeTransfers: this.guards.active(id),
        },
        'stream-install send ended',
      );
    }
  }

  /** Records → frames until End, an extraction failure, or the receiver going away. Never throws. */
  private async pump(
    connection: TransportConnection,
    stream: TransportStream,
    x: StreamExtraction,
    receiver: ReceiverWatch,
  ): Promise<{ outcome: Outcome; bytes: number }> {
    const gone = receiver.signal;
    const stallMs = this.opts.stallTimeoutMs ?? 60_000;
    let bytes = 0;
    const put = async (frame: Buffer): Promise<void> => {
      if (gone.aborted) throw gone.reason;
      if (stream.write(frame)) return;
      try {
        await once(stream, 'drain', { signal: AbortSignal.any([gone, AbortSignal.timeout(stallMs)]) });
      } catch (err) {
        if (gone.aborted) throw gone.reason;
        throw Object.assign(new Error(`the receiver took nothing for ${stallMs} ms`), { stalled: true, cause: err });
      }
    };
    try {
      for (;;) {
        const record = await until(x.next(), gone);
        if (record === null) {
          const error = await until(x.exited, gone);
          const control: StreamControl = {
            type: 'Error',
            code: error?.code ?? ExtractErrorCode.Failed,
            message: error?.message ?? 'the extraction ended before its last record',
          };
          this.opts.logger.warn({ code: control.code, err: control.message }, 'streamed extraction failed');
          await put(encodeControl(control));
          stream.end();
          await finished(stream, { readable: false }).catch(() => undefined);
          return { outcome: 'failed', bytes };
        }
        if (record.kind === 'data') {
          if (this.corrupt) record.bytes[0]! ^= 0xff;
          if (this.opts.onUpload) await until(Promise.resolve(this.opts.onUpload(connection, record.bytes.length)), gone);
          await put(encodeData(record.bytes));
          bytes += record.bytes.length;
          continue;
        }
        if (record.kind === 'end') receiver.endSent();
        await put(encodeControl(toControl(record)));
        if (record.kind === 'end') {
          stream.end();
          await finished(stream, { readable: false });
          return { outcome: 'sent', bytes };
        }
      }
    } catch (err) {
      if (err instanceof ReceiverGone || gone.aborted) return { outcome: 'cancelled', bytes };
      stream.destroy();
      if ((err as { stalled?: boolean }).stalled) {
        this.opts.logger.warn({ err: (err as Error).message }, 'streamed install dropped: the receiver stalled');
        return { outcome: 'stalled', bytes };
      }
      this.opts.logger.warn({ err: (err as Error).message }, 'streamed install failed while sending');
      return { outcome: 'failed', bytes };
    }
  }
}

interface ReceiverWatch {
  /** aborts (with ReceiverGone) once the receiver has given up */
  readonly signal: AbortSignal;
  /** from now on the receiver's FIN is the normal end */
  endSent(): void;
  dispose(): void;
}

/**
 * The receiver keeps its direction open until it has End: its FIN before
 * that, its reset, or the stream closing means it gave up. (Its reset is the
 * signal the transport delivers promptly: a write to a stream whose peer
 * stopped reading may not fail until the connection closes.) Watched from the
 * request on, so a receiver that leaves during the preflight is seen too.
 */
function watchReceiver(stream: TransportStream): ReceiverWatch {
  const gone = new AbortController();
  let ended = false;
  const onGone = (): void => gone.abort(new ReceiverGone('the receiver closed the stream'));
  const onEnd = (): void => {
    if (!ended) onGone();
  };
  stream.once('close', onGone);
  stream.once('error', onGone);
  stream.once('end', onEnd);
  stream.resume(); // nothing is expected after the request but that FIN or reset
  if (stream.destroyed || stream.readableEnded) onGone();
  return {
    signal: gone.signal,
    endSent: () => {
      ended = true;
    },
    dispose: () => {
      stream.off('close', onGone);
      stream.off('error', onGone);
      stream.off('end', onEnd);
    },
  };
}

function toControl(record: Exclude<StreamRecord, { kind: 'data' }>): StreamControl {
  switch (record.kind) {
    case 'file':
      return { type: 'File', path: record.path, size: record.size, crc32: record.crc32 };
    case 'dir':
      return { type: 'Dir', path: record.path };
    case 'file-end':
      return { type: 'FileEnd' };
    case 'end':
      return { type: 'End', files: record.files, dirs: record.dirs, bytes: record.bytes };
  }
}

/** `promise`, or the signal's reason as soon as it aborts. */
function until<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/**
 * The archives of a served game, in the install's order: `*.eti` and `*.rar`
 * (with old-style volumes `*.r00` …) outside dot-folders, sorted by path (as
 * findArchives in install/transactions.ts).
 */
export function archivesOf(paths: string[]): string[] {
  return archiveFiles(paths.filter((p) => !p.split('/').some((s) => s.startsWith('.')))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A path that reopens exactly the file ServedFiles checked (same inode, even
 * if the name is swapped meanwhile), for the extraction worker to read.
 */
function pinnedPath(fd: number): string | null {
  if (process.platform === 'linux') return `/proc/self/fd/${fd}`;
  if (process.platform === 'darwin') return `/dev/fd/${fd}`;
  return null;
}
