// Every default of the node in one place, one documented constant per option.
import os from 'node:os';
import path from 'node:path';

/** Product version reported by /api/health and Hello. */
export const LANSPREAD_VERSION = '0.1.0';

/** Dashboard/API listen address. Anything but loopback requires a token. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 7420;

/** QUIC port; the next free one is taken when this one is busy. */
export const DEFAULT_QUIC_PORT = 7421;

/** Full rescan of the game dir, a fallback for missed file system events. */
export const FULL_RESCAN_INTERVAL_MS = 300_000;

/** File system events for one game are batched this long before its rescan. */
export const RESCAN_DEBOUNCE_MS = 150;

/** Game roots scanned at once during a full scan (file system calls in flight). */
export const SCAN_CONCURRENCY = 16;

/** While the game dir is missing, how often to look for it to come back. */
export const GAME_DIR_MISSING_POLL_MS = 2_000;

/** version.ini holds a short version string; anything longer is not read in full. */
export const MAX_VERSION_INI_BYTES = 256;

/** Name of the sentinel file and of the install folder, see SPEC section 1. */
export const SENTINEL_FILE = 'version.ini';
export const INSTALL_DIR = 'local';

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** `$XDG_STATE_HOME/lanspread`, else `~/.local/state/lanspread`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(homeDir(env), '.local', 'state');
  return path.join(base, 'lanspread');
}

/** `~/Games/lanspread` */
export function defaultGameDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(homeDir(env), 'Games', 'lanspread');
}

/** A chunk request that gets no data for this long is given up and the chunk retried elsewhere. */
export const CHUNK_IDLE_TIMEOUT_MS = 15_000;

/** A chunk that failed this many times (on any peers) fails its download. */
export const CHUNK_MAX_ATTEMPTS = 5;

/** How often a download reports its progress. */
export const DOWNLOAD_PROGRESS_INTERVAL_MS = 250;

/** A source counts as "sending" (the progress's peer count) for this long after its last bytes. */
export const SENDING_WINDOW_MS = 1_000;

/** A request slot with nothing to fetch looks again this often, as peers come and go. */
export const IDLE_SLOT_POLL_MS = 200;

/** How long a peer may take to answer GetGame with its file list. */
export const FILE_LIST_TIMEOUT_MS = 60_000;

/** A downloading node tells its peers about newly verified chunks at most this often... */
export const SWARM_HAVE_INTERVAL_MS = 250;
/** ...and no more often than this many ms per connected peer, so a node sends about 100 have-updates a second at most, however many peers (docs/SWARM.md). */
export const SWARM_HAVE_PER_PEER_MS = 10;

/** Chunk uploads a node serves at once; a request beyond them is answered "busy" and goes to another holder. */
export const UPLOAD_SLOTS = Number(process.env.LANSPREAD_UPLOAD_SLOTS) || 8;

/** After a "busy" or chunk-less answer, a request slot waits this long (up to twice) before asking that peer again. */
export const BUSY_BACKOFF_MS = 100;

/** A swarming node refuses a chunk it is sending to another peer, and for this long after: about the time the receiver's have-set takes to reach the others. */
export const SPREAD_WINDOW_MS = 1_000;

/** A chunk still being sent after this long is no longer refused to others (its requester may be gone or stuck). */
export const SPREAD_HOLD_MS = 5_000;
