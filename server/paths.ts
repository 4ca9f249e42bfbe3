// Where the project's own files are, whether running from source (tests) or
// from the compiled `dist/` folder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'server'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the Lanspread project folder');
    dir = parent;
  }
}

export const PROJECT_ROOT = findProjectRoot();
/** The built dashboard (`npm run build:web`). */
export const WEB_DIST = path.join(PROJECT_ROOT, 'web', 'dist');
