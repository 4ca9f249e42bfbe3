// Messages between nodes (SPEC section 3). Each request opens its own stream and
// is one length-prefixed JSON frame; the answer is one frame, followed by raw
// bytes for file data. Field names are snake_case on the wire, as in the spec.
import { Type, type Static } from '@sinclair/typebox';
import { GAME_ID_PATTERN } from './game-id.js';

/** 2: QUIC on quinn, peer ids derived from Ed25519 keys (version 1 nodes cannot complete a handshake with us). */
export const PROTO_VERSION = 2;

const PeerIdField = Type.String({ pattern: '^[0-9a-f]{32,64}$' });
const GameIdField = Type.String({ pattern: GAME_ID_PATTERN });
/** relative, `/`-separated; confinement is checked by the server, not trusted from the schema */
const PathField = Type.String({ minLength: 1, maxLength: 4096 });
const ManifestField = Type.String({ pattern: '^[0-9a-f]{32}$' });
/** a have-set: one bit per chunk of the manifest, base64; 2 million chunks at most */
const HaveField = Type.String({ maxLength: 350_000 });

/**
 * Swarm (SPEC section 5a): the sender's have-set for a game, or null (`manifest`
 * null) when it stopped downloading it. Answered by the receiver's own state
 * for the game (SwarmState), so one exchange updates both sides.
 */
export const SwarmHaveRequest = Type.Object({
  type: Type.Literal('SwarmHave'),
  id: GameIdField,
  manifest: Type.Union([ManifestField, Type.Null()]),
  chunks: Type.Integer({ minimum: 0, maximum: 2_000_000 }),
  have: HaveField,
  bytes_have: Type.Integer({ minimum: 0 }),
  bytes_total: Type.Integer({ minimum: 0 }),
});

export const HelloRequest = Type.Object({
  type: Type.Literal('Hello'),
  peer_id: PeerIdField,
  proto_version: Type.Integer({ minimum: 1 }),
  listen_port: Type.Integer({ minimum: 0, maximum: 65535 }),
  name: Type.String({ maxLength: 64 }),
});
export const PingRequest = Type.Object({ type: Type.Literal('Ping') });
export const ListGamesRequest = Type.Object({ type: Type.Literal('ListGames') });
export const GetGameRequest = Type.Object({ type: Type.Literal('GetGame'), id: GameIdField });
export const GetGameFileDataRequest = Type.Object({ type: Type.Literal('GetGameFileData'), id: GameIdField, path: PathField });
export const GetGameFileChunkRequest = Type.Object({
  type: Type.Literal('GetGameFileChunk'),
  id: GameIdField,
  path: PathField,
  offset: Type.Integer({ minimum: 0 }),
  length: Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024 }),
  /** asked of a swarm source: answered only by a node on this manifest (SPEC section 5a) */
  manifest: Type.Optional(ManifestField),
});
/** streamed install (SPEC section 6): answered by StreamBegin, then stream frames (below) */
export const StreamInstallRequest = Type.Object({ type: Type.Literal('StreamInstall'), id: GameIdField });

export const WireRequest = Type.Union([
  HelloRequest,
  PingRequest,
  ListGamesRequest,
  GetGameRequest,
  GetGameFileDataRequest,
  GetGameFileChunkRequest,
  StreamInstallRequest,
  SwarmHaveRequest,
]);
export type WireRequest = Static<typeof WireRequest>;
export type WireRequestOf<T extends WireRequest['type']> = Extract<WireRequest, { type: T }>;

export interface AnnouncedGame {
  id: string;
  name: string;
  size: number;
  eti_version: string | null;
  downloaded: boolean;
  installed: boolean;
}

export interface WireFile {
  path: string;
  size: number;
  is_dir: boolean;
  /** chunk size the hashes were made with (files only) */
  chunk_size?: number;
  /** SHA-256 (hex) of every chunk, in order (files only) */
  sha256?: string[];
}

export type WireAnswer =
  | { type: 'Hello'; peer_id: string; proto_version: number; listen_port: number; name: string }
  /** `library_rev` changes whenever the announced library does, so pollers know when to ask again */
  | { type: 'Pong'; library_rev: number }
  | { type: 'Games'; games: AnnouncedGame[]; library_rev: number }
  | { type: 'GameFiles'; id: string; eti_version: string | null; files: WireFile[] }
  /** followed by exactly `length` raw bytes */
  | { type: 'FileData'; size: number; offset: number; length: number }
  /** the sender's archives passed its preflight; stream frames follow (see StreamFrameKind) */
  | { type: 'StreamBegin'; id: string; eti_version: string | null; files: number; dirs: number; bytes_total: number }
  /** a node's have-set for a game: `manifest` null when it neither downloads nor holds it */
  | { type: 'SwarmState'; id: string; manifest: string | null; chunks: number; have: string; bytes_have: number; bytes_total: number }
  | { type: 'Error'; code: string; message: string };

export type WireAnswerOf<T extends WireAnswer['type']> = Extract<WireAnswer, { type: T }>;

/** Stable codes of error answers (in the shared registry). */
export { WireErrorCode } from './error-codes.js';

/**
 * After a StreamBegin answer, the stream carries frames of
 * `[kind: u8][length: u32 big-endian][payload: length bytes]` until End (or Error):
 * a control frame's payload is one UTF-8 JSON StreamControl; a data frame's
 * payload is the next bytes of the file opened by the last File frame.
 */
export const StreamFrameKind = { Control: 1, Data: 2 } as const;

export type StreamControl =
  /** a regular file follows as data frames, then FileEnd; `crc32` is 8 lowercase hex digits, or null when the archive has none */
  | { type: 'File'; path: string; size: number; crc32: string | null }
  | { type: 'FileEnd' }
  /** a folder (possibly empty) */
  | { type: 'Dir'; path: string }
  /** everything was sent; the totals let the receiver check it has it all */
  | { type: 'End'; files: number; dirs: number; bytes: number }
  /** the sender failed after StreamBegin (e.g. a damaged archive); nothing follows */
  | { type: 'Error'; code: string; message: string };
