// The node's own data, outside the game dir: its peer id, settings, the library
// index and install intents. The peer id is made once and kept, so a restarted
// node is the same peer.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { LanspreadError } from '../errors.js';
import { isErrno, writeFileAtomic } from '../fs-util.js';
import { ErrorCode } from '../../../shared/error-codes.js';

const PEER_ID_RE = /^[0-9a-f]{32,64}$/;

/** Create the state dir when missing; refuse a path that is not a writable directory. */
export async function ensureDir(dir: string, what: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    if (isErrno(err, 'EEXIST', 'ENOTDIR')) throw new LanspreadError(ErrorCode.InvalidConfig, `${what} ${dir} is not a directory`);
    throw new LanspreadError(ErrorCode.InvalidConfig, `cannot create ${what} ${dir}: ${(err as Error).message}`);
  }
  const st = await fs.stat(dir);
  if (!st.isDirectory()) throw new LanspreadError(ErrorCode.InvalidConfig, `${what} ${dir} is not a directory`);
  try {
    await fs.access(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    throw new LanspreadError(ErrorCode.InvalidConfig, `${what} ${dir} is not writable`);
  }
}

/** The kept peer id, made on first call. */
export async function loadOrCreatePeerId(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'peer-id');
  try {
    const text = (await fs.readFile(file, 'utf8')).trim();
    if (PEER_ID_RE.test(text)) return text;
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const id = randomBytes(16).toString('hex');
  await writeFileAtomic(file, `${id}\n`);
  return id;
}
