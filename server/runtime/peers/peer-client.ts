// Requests to a peer: one stream per request, one frame out, one frame back
// (then raw bytes for file data). Error answers become WireErrors with the
// peer's code; a timeout or abort destroys the stream.
import type { Readable } from 'node:stream';
import type { WireAnswer, WireAnswerOf, WireRequest } from '../../../shared/wire.js';
import { WireErrorCode } from '../../../shared/wire.js';
import { endWithMessage, readMessage } from '../transport/framing.js';
import type { TransportConnection, TransportStream } from '../transport/transport.js';
import { WireError } from './wire-error.js';
import { ErrorCode } from '../../../shared/error-codes.js';

/** Largest answer frame accepted (file lists of big games). */
export const MAX_ANSWER_FRAME_BYTES = 16 * 1024 * 1024;

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

async function exchange(
  connection: TransportConnection,
  request: WireRequest,
  opts: RequestOptions,
): Promise<{ answer: WireAnswer; stream: TransportStream }> {
  const stream = await connection.openStream();
  // Failures reach callers through the awaited reads; a stream already done
  // with must not turn a later connection close into an uncaught error.
  stream.on('error', () => undefined);
  const abort = (reason: unknown) => stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
  const timer = opts.timeoutMs
    ? setTimeout(() => abort(new WireError(ErrorCode.Timeout, `${request.type} timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs)
    : undefined;
  const onAbort = () => abort(opts.signal?.reason ?? new Error('aborted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await endWithMessage(stream, request);
    const answer = (await readMessage(stream, { maxBytes: MAX_ANSWER_FRAME_BYTES })) as WireAnswer;
    if (typeof answer !== 'object' || answer === null || typeof answer.type !== 'string') {
      throw new WireError(WireErrorCode.BadRequest, 'peer sent a malformed answer');
    }
    if (answer.type === 'Error') throw WireError.fromPeer(answer.code, answer.message);
    return { answer, stream };
  } catch (err) {
    stream.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/** Send a request and expect an answer of type `expect`. */
export async function request<T extends WireAnswer['type']>(
  connection: TransportConnection,
  req: WireRequest,
  expect: T,
  opts: RequestOptions = {},
): Promise<WireAnswerOf<T>> {
  const { answer, stream } = await exchange(connection, req, opts);
  stream.resume(); // nothing more should come; let the stream finish
  if (answer.type !== expect) throw new WireError(WireErrorCode.BadRequest, `expected ${expect}, peer answered ${answer.type}`);
  return answer as WireAnswerOf<T>;
}

/** Request file bytes; resolves with the header and the stream positioned at the raw bytes. */
export async function requestData(
  connection: TransportConnection,
  req: Extract<WireRequest, { type: 'GetGameFileData' | 'GetGameFileChunk' }>,
  opts: RequestOptions = {},
): Promise<{ header: WireAnswerOf<'FileData'>; body: Readable }> {
  const { answer, stream } = await exchange(connection, req, opts);
  if (answer.type !== 'FileData') {
    stream.destroy();
    throw new WireError(WireErrorCode.BadRequest, `expected FileData, peer answered ${answer.type}`);
  }
  return { header: answer, body: stream };
}
