// Every stable error code of the node, in one registry shared by the runtime,
// the API, the CLI and the web app. Nothing matches on message text; clients
// switch on these. `ErrorCode` (the type) is the union of every group below, so
// a code thrown anywhere must be listed here, and the HTTP status map
// (server/http/errors.ts) is typed by it: a code without a status does not compile.

/** General codes: requests, games, operations, configuration. */
export const ErrorCode = {
  BadRequest: 'bad_request',
  InvalidGameId: 'invalid_game_id',
  UnknownGame: 'unknown_game',
  NotFound: 'not_found',
  OperationActive: 'operation_active',
  InvalidSettings: 'invalid_settings',
  NotDownloaded: 'not_downloaded',
  NotInstalled: 'not_installed',
  Installed: 'installed',
  /** an update was asked for, but no peer has a newer version than the local one */
  UpToDate: 'up_to_date',
  /** a cancel with no download or streamed install of the game running */
  NoDownload: 'no_download',
  /** the user cancelled a download or a streamed install */
  Cancelled: 'cancelled',
  NoPeers: 'no_peers',
  PeersGone: 'peers_gone',
  /** the peers' file list cannot be used (e.g. it has no version.ini) */
  BadFileList: 'bad_file_list',
  /** a download's target path exists and is not a regular file */
  BadTarget: 'bad_target',
  /** a request to a peer got no answer in time */
  Timeout: 'timeout',
  /** a peer refused with a code this node does not know (a newer peer) */
  PeerError: 'peer_error',
  Unauthorized: 'unauthorized',
  ForbiddenHost: 'forbidden_host',
  ForbiddenOrigin: 'forbidden_origin',
  /** a flag, an environment value or a folder of the configuration cannot be used */
  InvalidConfig: 'invalid_config',
  /** the catalog file is unreadable, not JSON, or breaks the schema */
  InvalidCatalog: 'invalid_catalog',
  MdnsUnavailable: 'mdns_unavailable',
  /** the node is stopping; work in flight stops (a download resumes after the restart) */
  ShuttingDown: 'shutting_down',
  /** refused up front: the work needs more than the file system has free (the message names both) */
  NotEnoughSpace: 'not_enough_space',
  /** the disk filled up while writing anyway */
  DiskFull: 'disk_full',
  Internal: 'internal',
} as const;

/** The transfer queue (server/runtime/queue/). */
export const QueueErrorCode = {
  /** the game already waits in the queue */
  AlreadyQueued: 'already_queued',
  /** a move or a removal named a game that is not queued */
  NotQueued: 'not_queued',
  /** a new order that is not exactly the ids queued now */
  OrderMismatch: 'queue_order_mismatch',
} as const;

/** Install transactions (server/runtime/install/). */
export const InstallErrorCode = {
  /** a reserved name is taken by something Lanspread did not make */
  ReservedPathInUse: 'reserved_path_in_use',
  /** the game root holds no `.eti`/`.rar` archive */
  NoArchives: 'no_archives',
  /** the game root is not a plain folder directly in the game dir */
  GameRootInvalid: 'game_root_invalid',
  /** an interrupted operation on this game could not be finished */
  RecoveryFailed: 'recovery_failed',
  /** the node is stopping */
  ShuttingDown: ErrorCode.ShuttingDown,
  /** a file system step failed (the message says which) */
  Failed: 'install_failed',
} as const;

/** RAR extraction (server/runtime/extract/). */
export const ExtractErrorCode = {
  /** encrypted entries or headers, and no password was given */
  Encrypted: 'archive_encrypted',
  /** a password was given but it is wrong */
  BadPassword: 'archive_bad_password',
  /** truncated, corrupt, CRC mismatch, or more data than the headers declare */
  Damaged: 'archive_damaged',
  /** an entry would land outside destDir, is a link, or has a forbidden name */
  UnsafeEntry: 'archive_unsafe_entry',
  /** files named as one multi-volume set that do not chain up as one */
  Multivolume: 'archive_multivolume',
  /** a volume of a multi-volume set is not there (the message names it) */
  VolumeMissing: 'archive_volume_missing',
  /** not a plain RAR archive (no signature at the start, SFX, unknown sizes) */
  Unsupported: 'archive_unsupported',
  /** the archive file cannot be opened or read */
  Unreadable: 'archive_unreadable',
  /** destDir is missing, not a folder, or not empty */
  DestInvalid: 'extract_dest_invalid',
  /** the disk filled up (or would, judging by the declared sizes) */
  NoSpace: 'extract_no_space',
  /** the caller's AbortSignal fired */
  Aborted: 'extract_aborted',
  /** anything else: I/O errors, a library bug, the worker dying */
  Failed: 'extract_failed',
} as const;

/** Streamed installs (SPEC section 6, server/runtime/stream-install/). */
export const StreamInstallErrorCode = {
  /** a file's bytes do not match the CRC32 its header announced */
  CrcMismatch: 'stream_crc_mismatch',
  /** a non-empty file came with no CRC32 (an empty one is taken as 00000000) */
  CrcMissing: 'stream_crc_missing',
  /** a malformed, unexpected or inconsistent frame, or the stream ended early */
  Protocol: 'stream_protocol',
  /** no frame arrived for too long */
  Stalled: 'stream_stalled',
  /** the sender streams another version than the one validated */
  VersionMismatch: 'stream_version_mismatch',
  /** no peer agrees with the majority on every file of the game */
  NoValidatedPeer: 'no_validated_peer',
  /** the user cancelled */
  Cancelled: ErrorCode.Cancelled,
} as const;

/** Codes of error answers between nodes (shared/wire.ts). */
export const WireErrorCode = {
  BadRequest: ErrorCode.BadRequest,
  NotFound: ErrorCode.NotFound,
  NotServed: 'not_served',
  OutOfRange: 'out_of_range',
  IdentityMismatch: 'identity_mismatch',
  Self: 'self',
  HelloRequired: 'hello_required',
  /** the node already streams this game to as many receivers as it allows; try another peer */
  Busy: 'busy',
  /** a chunk asked of a swarm source on another manifest (another version or file list) */
  WrongManifest: 'wrong_manifest',
  /** a swarm source does not hold that chunk verified (yet) */
  ChunkUnavailable: 'chunk_unavailable',
  /** a seed is sending that chunk to another peer right now: ask for another chunk */
  Spreading: 'spreading',
  Internal: ErrorCode.Internal,
} as const;

/** The transport's codes; their classes live in server/runtime/transport/errors.ts. */
export const TransportErrorCode = {
  TransportClosed: 'transport_closed',
  BindFailed: 'bind_failed',
  ConnectFailed: 'connect_failed',
  ConnectTimeout: 'connect_timeout',
  ConnectionClosed: 'connection_closed',
  ConnectionLimit: 'connection_limit',
  StreamReset: 'stream_reset',
  StreamStopped: 'stream_stopped',
  StreamFailed: 'stream_failed',
  InvalidOptions: 'invalid_transport_options',
  BindingMismatch: 'quic_binding_mismatch',
  IdentityFailed: 'identity_failed',
  FrameTooLarge: 'frame_too_large',
  FrameMalformed: 'frame_malformed',
  FrameTruncated: 'frame_truncated',
  EndOfStream: 'end_of_stream',
} as const;

type CodesOf<T> = T[keyof T];

export type QueueErrorCode = CodesOf<typeof QueueErrorCode>;
export type InstallErrorCode = CodesOf<typeof InstallErrorCode>;
export type ExtractErrorCode = CodesOf<typeof ExtractErrorCode>;
export type StreamInstallErrorCode = CodesOf<typeof StreamInstallErrorCode>;
export type WireErrorCode = CodesOf<typeof WireErrorCode>;
export type TransportErrorCode = CodesOf<typeof TransportErrorCode>;

/** Every stable code of the node. */
export type ErrorCode =
  | CodesOf<typeof ErrorCode>
  | QueueErrorCode
  | InstallErrorCode
  | ExtractErrorCode
  | StreamInstallErrorCode
  | WireErrorCode
  | TransportErrorCode;

/** Every code once, in registry order (tests iterate over it). */
export const ALL_ERROR_CODES: readonly ErrorCode[] = [
  ...new Set<ErrorCode>([
    ...Object.values(ErrorCode),
    ...Object.values(QueueErrorCode),
    ...Object.values(InstallErrorCode),
    ...Object.values(ExtractErrorCode),
    ...Object.values(StreamInstallErrorCode),
    ...Object.values(WireErrorCode),
    ...Object.values(TransportErrorCode),
  ]),
];

const KNOWN = new Set<string>(ALL_ERROR_CODES);

/** Whether `value` is a code of this registry (for codes that arrive from outside: peers, JSON). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}

/** Codes only clients (the web app, the CLI) make; the node never answers with them. */
export const ClientErrorCode = {
  /** the node could not be reached at all */
  Unreachable: 'unreachable',
} as const;

/** What a client's ApiError carries: the node's code, or one of its own. */
export type ClientSideCode = ErrorCode | CodesOf<typeof ClientErrorCode>;
