#!/usr/bin/env node
// Run before `npm start`, `npm test` and `npm run bench`: installs dependencies
// on a fresh clone, then builds the server and the dashboard when their sources
// changed. Quick (about a second) when everything is already up to date.
// Plain Node, no dependencies: it runs before they exist.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
function run(cmd, args) {
  try {
    execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(`lanspread: "${path.basename(cmd)} ${args.join(' ')}" failed (see above)`);
    process.exit(1);
  }
}
const bin = (name) => path.join(root, 'node_modules', '.bin', name);

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** Newest mtime of any file under the given folders (skipping build output). */
function newest(dirs) {
  let max = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === 'node_modules' || e.name === 'dist') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else max = Math.max(max, mtime(p));
    }
  };
  for (const d of dirs) walk(path.join(root, d));
  return max;
}

// 1. Dependencies: a fresh clone, or a lock file newer than the installed tree.
// `npm install` rather than `npm ci`: the QUIC library lists optional native
// packages for other platforms that the registry does not serve, which `npm ci`
// refuses as a lock mismatch; `npm install` installs exactly the locked tree.
const installedLock = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(installedLock) || mtime(path.join(root, 'package-lock.json')) > mtime(installedLock)) {
  console.error('lanspread: installing dependencies…');
  run(npm, ['install', '--no-audit', '--no-fund']);
}

// 2. Server: tsc's incremental build is a no-op when nothing changed.
run(bin('tsc'), ['-b', 'tsconfig.build.json']);
const catalogSrc = path.join(root, 'server/runtime/library/default-catalog.json');
const catalogDst = path.join(root, 'dist/server/runtime/library/default-catalog.json');
if (mtime(catalogSrc) > mtime(catalogDst)) fs.copyFileSync(catalogSrc, catalogDst);

// 3. Dashboard: rebuilt when anything under web/ or shared/ is newer than the build.
const builtIndex = path.join(root, 'web', 'dist', 'index.html');
if (newest(['web', 'shared']) > mtime(builtIndex)) {
  console.error('lanspread: building the dashboard…');
  run(bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
}
