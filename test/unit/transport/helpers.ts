// Small helpers shared by the transport tests.
import { createHash, randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

export function sha256(data: Uint8Array | Uint8Array[]): string {
  const h = createHash('sha256');
  for (const d of Array.isArray(data) ? data : [data]) h.update(d);
  return h.digest('hex');
}

export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Writes `total` random bytes in `chunk`-sized pieces honouring backpressure; resolves their sha256. */
export async function writeRandom(stream: Writable, total: number, chunk = 64 * 1024, end = true): Promise<string> {
  const h = createHash('sha256');
  let sent = 0;
  while (sent < total) {
    const piece = randomBytes(Math.min(chunk, total - sent));
    h.update(piece);
    sent += piece.length;
    if (!stream.write(piece)) await waitDrain(stream);
  }
  if (end) await new Promise<void>((resolve) => stream.end(resolve));
  return h.digest('hex');
}

export function waitDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      stream.off('close', onClose);
      resolve();
    };
    const onError = (err: Error): void => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      reject(err);
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      reject(new Error('stream closed while waiting for drain'));
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with the promise's value, or rejects after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

/** Resolves true if the promise settles within `ms`, false otherwise. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

/** The error a stream fails with (rejects if it ends or closes without one within `ms`). */
export function streamError(stream: Readable | Writable, ms = 5000): Promise<Error & { code?: string }> {
  return within(
    new Promise((resolve, reject) => {
      stream.once('error', resolve);
      stream.once('close', () => setImmediate(() => reject(new Error('closed without error'))));
    }),
    ms,
    'stream error',
  );
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
