// The node's own data, outside the game dir: its key (transport/identity.ts),
// settings, the library index and install intents.
import fs from 'node:fs/promises';
import { LanspreadError } from '../errors.js';
import { isErrno } from '../fs-util.js';
import { ErrorCode } from '../../../shared/error-codes.js';

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
