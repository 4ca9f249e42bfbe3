// Length-prefixed JSON messages on a stream (SPEC section 3): a 4-byte
// big-endian length, then that many bytes of UTF-8 JSON. A reader takes
// exactly one frame and not a byte more, so whatever follows (raw file data
// after an answer header) stays in the stream for the next reader. Frames
// over the size limit are refused before their body is read or written.
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_MAX_FRAME_BYTES } from './constants.js';
import { TransportError, TransportErrorCode } from './errors.js';

export const FRAME_HEADER_BYTES = 4;

export interface FrameOptions {
  /** Largest JSON body accepted or sent, in bytes; default 1 MiB. */
  maxBytes?: number;
}

/** A frame whose declared or actual size is over the limit. */
export class FrameTooLargeError extends TransportError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(TransportErrorCode.FrameTooLarge, `frame of ${size} bytes exceeds the ${limit}-byte limit`);
  }
}

/** A frame whose body is not UTF-8 JSON (or that has an empty body). */
export class FrameMalformedError extends TransportError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(TransportErrorCode.FrameMalformed, `malformed frame: ${detail}`, options);
  }
}

/** The stream ended inside a frame. */
export class FrameTruncatedError extends TransportError {
  constructor(
    readonly expected: number,
    readonly got: number,
  ) {
    super(TransportErrorCode.FrameTruncated, `stream ended after ${got} of ${expected} bytes of a frame`);
  }
}

/** The stream ended cleanly before a frame started (no more messages). */
export class EndOfStreamError extends TransportError {
  constructor() {
    super(TransportErrorCode.EndOfStream, 'stream ended before a frame');
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The bytes of one frame carrying `message`. */
export function encodeFrame(message: unknown, options: FrameOptions = {}): Buffer {
  const limit = options.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const json = JSON.stringify(message);
  if (json === undefined) throw new FrameMalformedError('message has no JSON form');
  const size = Buffer.byteLength(json, 'utf8');
  if (size > limit) throw new FrameTooLargeError(size, limit);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  frame.writeUInt32BE(size, 0);
  frame.write(json, FRAME_HEADER_BYTES, 'utf8');
  return frame;
}

/** Parses a frame body. */
export function decodeFrameBody(body: Uint8Array): unknown {
  if (body.length === 0) throw new FrameMalformedError('empty body');
  let text: string;
  try {
    text = decoder.decode(body);
  } catch (err) {
    throw new FrameMalformedError('body is not UTF-8', { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FrameMalformedError('body is not JSON', { cause: err });
  }
}

/** Writes one message; resolves once the stream has taken it (respecting backpressure). */
export async function writeMessage(stream: Writable, message: unknown, options: FrameOptions = {}): Promise<void> {
  const frame = encodeFrame(message, options);
  return new Promise((resolve, reject) => {
    stream.write(frame, (err) => (err ? reject(err) : resolve()));
  });
}

/** Writes one message and ends the stream's sending direction. */
export async function endWithMessage(stream: Writable, message: unknown, options: FrameOptions = {}): Promise<void> {
  const frame = encodeFrame(message, options);
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    stream.once('error', onError);
    stream.end(frame, () => {
      stream.off('error', onError);
      resolve();
    });
  });
}

/**
 * Reads exactly `n` bytes, no more. Rejects with FrameTruncatedError if the
 * stream ends first (EndOfStreamError if it ended before the first byte and
 * `allowEnd` is set), or with the stream's own error.
 */
export function readExactly(stream: Readable, n: number, allowEnd = false): Promise<Buffer> {
  if (stream.readableObjectMode) return Promise.reject(new TypeError('framing needs a byte stream, not object mode'));
  return new Promise((resolve, reject) => {
    let settled = false;
    const cleanup = (): void => {
      stream.off('readable', attempt);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const finish = (err: Error | null, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      cleanup();
      if (err) reject(err);
      else resolve(value!);
    };
    const ended = (): void => {
      // Whatever is left is shorter than n.
      const rest = stream.read() as Buffer | null;
      const got = rest?.length ?? 0;
      if (got === 0 && allowEnd) finish(new EndOfStreamError());
      else finish(new FrameTruncatedError(n, got));
    };
    function attempt(): void {
      if (settled) return;
      const chunk = stream.read(n) as Buffer | null;
      if (chunk !== null) {
        if (chunk.length === n) finish(null, chunk);
        else finish(new FrameTruncatedError(n, chunk.length));
        return;
      }
      if (stream.readableEnded) ended();
    }
    const onEnd = (): void => ended();
    const onError = (err: Error): void => finish(err);
    const onClose = (): void => {
      // Destroyed without an error event (e.g. a reset nobody listened for).
      if (!settled) finish(stream.errored ?? new FrameTruncatedError(n, stream.readableLength));
    };
    if (stream.errored) {
      finish(stream.errored);
      return;
    }
    if (stream.readableEnded || stream.destroyed) {
      ended();
      return;
    }
    stream.on('readable', attempt);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    attempt();
  });
}

/**
 * Reads exactly one message. The bytes after it stay in the stream, so the
 * caller can go on with readMessage or consume the rest as raw data.
 */
export async function readMessage(stream: Readable, options: FrameOptions = {}): Promise<unknown> {
  const limit = options.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const header = await readExactly(stream, FRAME_HEADER_BYTES, true);
  const size = header.readUInt32BE(0);
  if (size > limit) throw new FrameTooLargeError(size, limit);
  if (size === 0) throw new FrameMalformedError('empty body');
  const body = await readExactly(stream, size);
  return decodeFrameBody(body);
}
