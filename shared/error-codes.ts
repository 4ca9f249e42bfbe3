// Stable error codes shared by the runtime, the API and the web app.
// Nothing matches on message text; clients switch on these.
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
  NoPeers: 'no_peers',
  PeersGone: 'peers_gone',
  Unauthorized: 'unauthorized',
  ForbiddenHost: 'forbidden_host',
  ForbiddenOrigin: 'forbidden_origin',
  NotImplemented: 'not_implemented',
  MdnsUnavailable: 'mdns_unavailable',
  /** refused up front: the work needs more than the file system has free (the message names both) */
  NotEnoughSpace: 'not_enough_space',
  /** the disk filled up while writing anyway */
  DiskFull: 'disk_full',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
