// The REST API's bodies, defined once with TypeBox: the same definitions give the
// server its request validation, the OpenAPI document, and both sides their types.
import { Type, type Static } from '@sinclair/typebox';
import { GAME_ID_PATTERN } from './game-id.js';
import { ALL_ERROR_CODES, type ErrorCode } from './error-codes.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** `code` is one of the registry's (shared/error-codes.ts); the schema lists them all. */
export const ErrorInfo = Type.Object(
  { code: Type.Unsafe<ErrorCode>({ type: 'string', enum: [...ALL_ERROR_CODES] }), message: Type.String() },
  { $id: 'ErrorInfo' },
);
export type ErrorInfo = Static<typeof ErrorInfo>;

export const ErrorBody = Type.Object({ error: ErrorInfo }, { $id: 'ErrorBody' });
export type ErrorBody = Static<typeof ErrorBody>;

export const OperationKind = Type.Union([
  Type.Literal('download'),
  Type.Literal('stream-install'),
  Type.Literal('install'),
  Type.Literal('uninstall'),
  Type.Literal('remove'),
]);
export type OperationKind = Static<typeof OperationKind>;

export const Operation = Type.Object({
  kind: OperationKind,
  phase: Type.String(),
  bytesDone: Type.Number({ minimum: 0 }),
  bytesTotal: Type.Number({ minimum: 0 }),
  /** bytes per second, averaged */
  speed: Type.Number({ minimum: 0 }),
  etaSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  /** peers actively sending */
  peers: Type.Integer({ minimum: 0 }),
});
export type Operation = Static<typeof Operation>;

export const GameId = Type.String({ pattern: GAME_ID_PATTERN });

/** The game's next step (downloading it, or installing its downloaded archives) does not fit on the disk. */
export const SpaceShortfall = Type.Object({
  action: Type.Union([Type.Literal('download'), Type.Literal('install')]),
  /** at least this much is needed (what the sources announce, less what is already here; or the archives' size) */
  neededBytes: Type.Number({ minimum: 0 }),
  /** free space of the game dir's file system */
  freeBytes: Type.Number({ minimum: 0 }),
  /** one line naming both figures, for the disabled button */
  message: Type.String(),
});
export type SpaceShortfall = Static<typeof SpaceShortfall>;

/** What a queued request will start: a download, an update, or a streamed install. */
export const QueuedKind = Type.Union([Type.Literal('download'), Type.Literal('update'), Type.Literal('stream-install')]);
export type QueuedKind = Static<typeof QueuedKind>;

export const Game = Type.Object(
  {
    id: GameId,
    name: Type.String(),
    description: Type.String(),
    size: Type.Number({ minimum: 0 }),
    genre: Type.Optional(Type.String()),
    maxPlayers: Type.Optional(Type.Integer({ minimum: 1 })),
    downloaded: Type.Boolean(),
    installed: Type.Boolean(),
    /** the local eti_version, or null when not downloaded */
    version: Nullable(Type.String()),
    /** how many peers have the game */
    peers: Type.Integer({ minimum: 0 }),
    /** the newest eti_version seen anywhere: catalog, local or peers */
    latestVersion: Nullable(Type.String()),
    operation: Type.Union([Operation, Type.Null()]),
    lastError: Type.Union([ErrorInfo, Type.Null()]),
    /** null when the next step fits (or no operation could start anyway); the request itself checks again, exactly */
    noSpace: Type.Union([SpaceShortfall, Type.Null()]),
    /** waiting in the transfer queue (GET /api/queue); null when not queued */
    queued: Type.Union([
      Type.Object({
        position: Type.Integer({ minimum: 1 }),
        kind: QueuedKind,
      }),
      Type.Null(),
    ]),
  },
  { $id: 'Game' },
);
export type Game = Static<typeof Game>;

export const GameSource = Type.Object({
  peerId: Type.String(),
  name: Type.String(),
  version: Nullable(Type.String()),
  /** it has the whole game (downloaded); otherwise it is a player still downloading the same manifest */
  complete: Type.Boolean(),
  /** verified bytes it holds of the game */
  bytesHave: Type.Number({ minimum: 0 }),
  /** bytes per second this node is receiving from it right now (0 when none) */
  receivingSpeed: Type.Number({ minimum: 0 }),
});
export type GameSource = Static<typeof GameSource>;

export const GameFile = Type.Object({
  path: Type.String(),
  size: Type.Number({ minimum: 0 }),
  isDir: Type.Boolean(),
});
export type GameFile = Static<typeof GameFile>;

export const GameDetail = Type.Intersect([Game, Type.Object({ sources: Type.Array(GameSource), files: Type.Array(GameFile) })]);
export type GameDetail = Static<typeof GameDetail>;

export const Health = Type.Object({
  ok: Type.Boolean(),
  peerId: Type.String(),
  name: Type.String(),
  version: Type.String(),
});
export type Health = Static<typeof Health>;

export const Settings = Type.Object({
  gameDir: Type.String(),
  name: Type.String(),
  /** bytes per second, 0 = no limit */
  uploadLimit: Type.Integer({ minimum: 0 }),
  /** bytes per second, 0 = no limit */
  downloadLimit: Type.Integer({ minimum: 0 }),
  /** downloads, updates and streamed installs that run at once; more wait in the queue */
  maxActiveTransfers: Type.Integer({ minimum: 1, maximum: 16 }),
  /** free space of the game dir's file system (read only; null when it cannot be read) */
  freeBytes: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
});
export type Settings = Static<typeof Settings>;
/** The settings a node keeps (everything but what it measures). */
export type StoredSettings = Omit<Settings, 'freeBytes'>;

export const SettingsPatch = Type.Partial(
  Type.Object({
    gameDir: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1, maxLength: 64 }),
    uploadLimit: Type.Integer({ minimum: 0 }),
    downloadLimit: Type.Integer({ minimum: 0 }),
    maxActiveTransfers: Type.Integer({ minimum: 1, maximum: 16 }),
  }),
  { additionalProperties: false },
);
export type SettingsPatch = Static<typeof SettingsPatch>;

/** A game a peer is downloading, as its swarm have-set shows it. */
export const PeerDownload = Type.Object({
  id: GameId,
  /** verified bytes it holds */
  bytesHave: Type.Number({ minimum: 0 }),
  bytesTotal: Type.Number({ minimum: 0 }),
});
export type PeerDownload = Static<typeof PeerDownload>;

export const Peer = Type.Object({
  peerId: Type.String(),
  name: Type.String(),
  address: Type.String(),
  games: Type.Integer({ minimum: 0 }),
  lastSeen: Type.String({ format: 'date-time' }),
  rttMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  /** the wire protocol version the peer said Hello with */
  protocolVersion: Type.Integer({ minimum: 1 }),
  /** whether that is the version this node speaks */
  compatible: Type.Boolean(),
  /** what it is downloading (from the have-sets it sent this node) */
  downloading: Type.Array(PeerDownload),
  /** bytes this node sent to it since start */
  uploadedBytes: Type.Number({ minimum: 0 }),
  /** bytes this node received from it since start */
  downloadedBytes: Type.Number({ minimum: 0 }),
});
export type Peer = Static<typeof Peer>;
/** A peer as the peer layer knows it; the runtime adds the transfer figures. */
export type PeerBase = Omit<Peer, 'downloading' | 'uploadedBytes' | 'downloadedBytes'>;

export const ActiveOperation = Type.Intersect([Operation, Type.Object({ id: GameId })]);
export type ActiveOperation = Static<typeof ActiveOperation>;

export const PeerTransferStats = Type.Object({ peerId: Type.String(), uploadedBytes: Type.Number(), downloadedBytes: Type.Number() });

export const Stats = Type.Object({
  uploadedBytes: Type.Number(),
  downloadedBytes: Type.Number(),
  peers: Type.Array(PeerTransferStats),
  /** how late the node's event loop ran since start (ms): a busy node must still answer promptly */
  eventLoopDelay: Type.Object({ p50Ms: Type.Number(), p99Ms: Type.Number(), maxMs: Type.Number() }),
});
export type Stats = Static<typeof Stats>;

export const QueueItem = Type.Object({
  id: GameId,
  kind: QueuedKind,
  /** install once downloaded (download and update) */
  install: Type.Boolean(),
  /** 1 is the next to start */
  position: Type.Integer({ minimum: 1 }),
  queuedAt: Type.String({ format: 'date-time' }),
});
export type QueueItem = Static<typeof QueueItem>;

export const Queue = Type.Object(
  {
    /** how many transfers run at once (the setting) */
    maxActive: Type.Integer({ minimum: 1 }),
    /** transfers running now */
    active: Type.Integer({ minimum: 0 }),
    items: Type.Array(QueueItem),
  },
  { $id: 'Queue' },
);
export type Queue = Static<typeof Queue>;

/** PUT /api/queue: the queued ids in their new order (exactly the ids queued now). */
export const QueueOrder = Type.Object({ order: Type.Array(GameId, { maxItems: 1000 }) }, { additionalProperties: false });
export type QueueOrder = Static<typeof QueueOrder>;

/** POST /api/queue/:id/move: the new 1-based position (past the end means last). */
export const QueueMove = Type.Object({ position: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export type QueueMove = Static<typeof QueueMove>;

/** An operation's kind, or `update` (a download of a newer version). */
export const HistoryKind = Type.Union([OperationKind, Type.Literal('update')]);
export type HistoryKind = Static<typeof HistoryKind>;

export const HistoryOutcome = Type.Union([
  Type.Literal('ok'),
  Type.Literal('error'),
  Type.Literal('cancelled'),
  Type.Literal('interrupted'),
]);
export type HistoryOutcome = Static<typeof HistoryOutcome>;

/** One finished operation, as the node keeps it (newest 100, in the state dir). */
export const HistoryEntry = Type.Object(
  {
    /** unique per node */
    seq: Type.Integer({ minimum: 1 }),
    id: GameId,
    kind: HistoryKind,
    outcome: HistoryOutcome,
    /** bytes moved or written by the time it ended */
    bytes: Type.Number({ minimum: 0 }),
    durationMs: Type.Number({ minimum: 0 }),
    endedAt: Type.String({ format: 'date-time' }),
    error: Type.Union([ErrorInfo, Type.Null()]),
  },
  { $id: 'HistoryEntry' },
);
export type HistoryEntry = Static<typeof HistoryEntry>;

/** Throughput over one sampling interval, in bytes per second. */
export const ThroughputSample = Type.Object({
  /** when the interval ended (ms since the epoch) */
  t: Type.Number(),
  /** received from peers */
  down: Type.Number({ minimum: 0 }),
  /** sent to peers */
  up: Type.Number({ minimum: 0 }),
  /** written to disk by installs and streamed installs */
  disk: Type.Number({ minimum: 0 }),
});
export type ThroughputSample = Static<typeof ThroughputSample>;

export const StatsHistory = Type.Object(
  { intervalMs: Type.Integer({ minimum: 1 }), samples: Type.Array(ThroughputSample) },
  { $id: 'StatsHistory' },
);
export type StatsHistory = Static<typeof StatsHistory>;
