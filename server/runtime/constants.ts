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
