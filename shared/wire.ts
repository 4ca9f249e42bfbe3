// Messages between nodes (SPEC section 3). Each request opens its own stream and
// is one length-prefixed JSON frame; the answer is one frame, followed by raw
// bytes for file data. Field names are snake_case on the wire, as in the spec.
import { Type, type Static } from '@sinclair/typebox';
import { GAME_ID_PATTERN } from './game-id.js';

export const PROTO_VERSION = 1;
export const ALPN = 'lanspread/1';

const PeerIdField = Type.String({ pattern: '^[0-9a-f]{32,64}$' });
const GameIdField = Type.String({ pattern: GAME_ID_PATTERN });
/** relative, `/`-separated; confinement is checked by the server, not trusted from the schema */
const PathField = Type.String({ minLength: 1, maxLength: 4096 });

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
});

export const WireRequest = Type.Union([
  HelloRequest,
  PingRequest,
  ListGamesRequest,
  GetGameRequest,
  GetGameFileDataRequest,
  GetGameFileChunkRequest,
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
  | { type: 'Error'; code: string; message: string };

export type WireAnswerOf<T extends WireAnswer['type']> = Extract<WireAnswer, { type: T }>;

/** Stable codes of error answers. */
export const WireErrorCode = {
  BadRequest: 'bad_request',
  NotFound: 'not_found',
  NotServed: 'not_served',
  OutOfRange: 'out_of_range',
  IdentityMismatch: 'identity_mismatch',
  Self: 'self',
  HelloRequired: 'hello_required',
  Internal: 'internal',
} as const;
