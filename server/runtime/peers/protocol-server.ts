// Answers one request stream from a peer: read one frame, validate it, answer
// with one frame (plus raw bytes for file data), end the stream. A malformed,
// oversized or unknown request gets an error answer; nothing a peer sends can
// throw past this function, so the connection and the node keep serving.
// Requests that belong to another service (a streamed install) are answered
// by the handler that service registers (as libp2p's registrar); this module
// imports none of them.
import { pipeline } from 'node:stream/promises';
import { Value } from '@sinclair/typebox/value';
import { WireErrorCode, WireRequest, type WireAnswer, type WireRequestOf } from '../../../shared/wire.js';
import type { Logger } from '../logger.js';
import { endWithMessage, readMessage, writeMessage } from '../transport/framing.js';
import type { TransportConnection, TransportStream } from '../transport/transport.js';
import { SPREAD_HOLD_MS, SPREAD_WINDOW_MS, UPLOAD_SLOTS } from '../constants.js';
import type { OpenedFile, ServedFiles } from './served-files.js';
import { WireError } from './wire-error.js';

/** Largest request frame a peer may send. */
export const MAX_REQUEST_FRAME_BYTES = 64 * 1024;

export interface ProtocolHooks {
  /** handle a Hello (identity checks, registration); returns our Hello or throws a WireError */
  onHello(connection: TransportConnection, hello: WireRequestOf<'Hello'>): Promise<WireAnswer>;
  libraryRev(): number;
  /** raw file bytes about to be sent to this connection's peer; may wait (upload limit) */
  onUpload?(connection: TransportConnection, bytes: number, signal: AbortSignal): Promise<void> | void;
}

/** Request types answered by a handler another service registers. */
export type DelegatedRequest = 'StreamInstall' | 'SwarmHave';

/** Opens a chunk asked for on a manifest (the swarm registers it). */
export type ManifestChunkSource = (id: string, manifest: string, rel: string, offset: number, length: number) => Promise<OpenedFile>;

/** Answers one request on its stream (it ends or resets the stream itself). */
export type RequestHandler<T extends DelegatedRequest> = (
  connection: TransportConnection,
  stream: TransportStream,
  request: WireRequestOf<T>,
) => Promise<void>;

export class ProtocolServer {
  private readonly handlers: { [T in DelegatedRequest]?: RequestHandler<T> } = {};
  private chunkSource: ManifestChunkSource | null = null;
  /** chunk uploads in progress */
  private uploads = 0;
  /** chunks being sent, or sent moments ago (spreading): until when each is refused to others */
  private readonly recentChunks = new Map<string, number>();

  constructor(
    private readonly served: ServedFiles,
    private readonly hooks: ProtocolHooks,
    private readonly logger: Logger,
    private readonly uploadSlots = UPLOAD_SLOTS,
    /** refuse a chunk while it is being sent to another peer, and for a moment after (swarm) */
    private readonly spread = false,
  ) {}

  /** Let `source` open the chunks peers ask for on a manifest (swarm requests). */
  registerChunkSource(source: ManifestChunkSource): void {
    this.chunkSource = source;
  }

  /** Let `handler` answer every request of `type` (a later call replaces it). */
  register<T extends DelegatedRequest>(type: T, handler: RequestHandler<T>): void {
    this.handlers[type] = handler as (typeof this.handlers)[T];
  }

  /** Serve every stream the peer opens on this connection. */
  attach(connection: TransportConnection): void {
    connection.onStream((stream) => {
      void this.handle(connection, stream);
    });
  }

  async handle(connection: TransportConnection, stream: TransportStream): Promise<void> {
    stream.on('error', () => undefined); // failures surface through the awaited calls below
    let request: WireRequest;
    try {
      const message = await readMessage(stream, { maxBytes: MAX_REQUEST_FRAME_BYTES });
      if (!Value.Check(WireRequest, message)) {
        const type = typeof message === 'object' && message !== null ? String((message as { type?: unknown }).type) : typeof message;
        throw new WireError(WireErrorCode.BadRequest, `unknown or malformed request (type ${type.slice(0, 40)})`);
      }
      request = message;
    } catch (err) {
      await this.answerError(stream, err);
      return;
    }
    try {
      await this.dispatch(connection, stream, request);
    } catch (err) {
      await this.answerError(stream, err);
    }
  }

  private async dispatch(connection: TransportConnection, stream: TransportStream, request: WireRequest): Promise<void> {
    switch (request.type) {
      case 'Hello':
        return endWithMessage(stream, await this.hooks.onHello(connection, request));
      case 'Ping':
        return endWithMessage(stream, { type: 'Pong', library_rev: this.hooks.libraryRev() } satisfies WireAnswer);
      case 'ListGames':
        return endWithMessage(stream, {
          type: 'Games',
          games: this.served.announced(),
          library_rev: this.hooks.libraryRev(),
        } satisfies WireAnswer);
      case 'GetGame': {
        const { eti_version, files } = await this.served.files(request.id);
        return endWithMessage(stream, { type: 'GameFiles', id: request.id, eti_version, files } satisfies WireAnswer, {
          maxBytes: 16 * 1024 * 1024,
        });
      }
      case 'GetGameFileData':
        return this.sendFile(connection, stream, await this.served.open(request.id, request.path), request.path, 0, null);
      case 'GetGameFileChunk':
        return this.sendChunk(connection, stream, request);
      case 'StreamInstall': {
        const handler = this.handlers.StreamInstall;
        if (!handler) throw new WireError(WireErrorCode.NotServed, 'streamed installs are not served by this node');
        return handler(connection, stream, request);
      }
      case 'SwarmHave': {
        const handler = this.handlers.SwarmHave;
        if (!handler) throw new WireError(WireErrorCode.NotServed, 'this node does not swarm');
        return handler(connection, stream, request);
      }
    }
  }

  /** A chunk, within the upload slots: from a downloaded game, or on a manifest from the swarm. */
  private async sendChunk(
    connection: TransportConnection,
    stream: TransportStream,
    request: WireRequestOf<'GetGameFileChunk'>,
  ): Promise<void> {
    if (this.uploads >= this.uploadSlots) throw new WireError(WireErrorCode.Busy, `all ${this.uploadSlots} upload slots are taken`);
    // Spreading, for a complete holder (asked without a manifest): while a chunk goes to one player, and until
    // that player's have-set has told the others, a second player asking for it is sent to another chunk: the
    // seed's uplink carries chunks nobody has rather than copies. Partial holders serve whatever is asked.
    const spread = this.spread && request.manifest === undefined;
    const key = `${request.id}\0${request.path}\0${request.offset}`;
    if (spread && (this.recentChunks.get(key) ?? 0) > performance.now()) {
      throw new WireError(WireErrorCode.Spreading, 'that chunk is being sent to another peer; ask for another one');
    }
    this.uploads++;
    // held while it is sent, but no longer than SPREAD_HOLD_MS: a requester that gave up may not block the chunk
    if (spread) this.recentChunks.set(key, performance.now() + SPREAD_HOLD_MS);
    try {
      const { id, path: rel, offset, length, manifest } = request;
      let file: OpenedFile;
      if (manifest === undefined) file = await this.served.open(id, rel);
      else if (this.chunkSource) file = await this.chunkSource(id, manifest, rel, offset, length);
      else throw new WireError(WireErrorCode.WrongManifest, 'this node does not swarm');
      await this.sendFile(connection, stream, file, rel, offset, length);
    } finally {
      this.uploads--;
      if (spread) this.forgetSentChunks(key, performance.now() + SPREAD_WINDOW_MS);
    }
  }

  private forgetSentChunks(key: string, until: number): void {
    this.recentChunks.set(key, until);
    if (this.recentChunks.size < 4096) return;
    const now = performance.now();
    for (const [k, t] of this.recentChunks) if (t <= now) this.recentChunks.delete(k);
  }

  private async sendFile(
    connection: TransportConnection,
    stream: TransportStream,
    { handle, size }: OpenedFile,
    rel: string,
    offset: number,
    length: number | null,
  ): Promise<void> {
    try {
      const len = length ?? size - offset;
      if (offset > size || offset + len > size) {
        throw new WireError(WireErrorCode.OutOfRange, `range ${offset}+${len} is outside "${rel}" (${size} bytes)`);
      }
      await writeMessage(stream, { type: 'FileData', size, offset, length: len } satisfies WireAnswer);
      if (len > 0) {
        const source = handle.createReadStream({ start: offset, end: offset + len - 1, autoClose: false, highWaterMark: 256 * 1024 });
        const onUpload = this.hooks.onUpload;
        // a requester that gives up closes the stream: a wait for the upload limit ends with it (and frees the slot)
        const closed = new AbortController();
        const onClose = () => closed.abort(new Error('the requester closed the stream'));
        stream.once('close', onClose);
        try {
          await pipeline(
            source,
            async function* (chunks: AsyncIterable<Buffer>) {
              for await (const chunk of chunks) {
                if (onUpload) await onUpload(connection, chunk.length, closed.signal);
                yield chunk;
              }
            },
            stream,
          );
        } finally {
          stream.off('close', onClose);
        }
      } else {
        await new Promise<void>((resolve) => stream.end(resolve));
      }
    } finally {
      await handle.close();
    }
  }

  private async answerError(stream: TransportStream, err: unknown): Promise<void> {
    const code = err instanceof WireError ? err.code : WireErrorCode.BadRequest;
    const message = err instanceof Error ? err.message : String(err);
    if (!(err instanceof WireError)) this.logger.debug({ err: message }, 'bad request from peer');
    try {
      if (stream.writable && !stream.writableEnded) {
        await endWithMessage(stream, { type: 'Error', code, message } satisfies WireAnswer);
      } else {
        stream.destroy();
      }
    } catch {
      stream.destroy();
    }
  }
}
