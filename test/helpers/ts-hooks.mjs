// Module hooks that let a plain `node` child process (a scenario driver inside
// a network namespace) run the TypeScript sources as they are, with no build:
// a relative `./x.js` imported from a `.ts` file resolves to `./x.ts` when only
// that exists, and `.ts` files are transpiled (types removed) by the project's
// own TypeScript. No type checking happens here; `tsc` does that. Loading
// TypeScript costs about a second of CPU, so output is cached on disk by a hash
// of the source and TypeScript is loaded only on a miss.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE_DIR = path.join(os.tmpdir(), 'lanspread-ts-hooks-cache');
const COMPILER_OPTIONS = { module: 'ESNext', target: 'ES2022', verbatimModuleSyntax: true, inlineSourceMap: true };
let ts;

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
    const js = new URL(specifier, parent);
    const tsUrl = new URL(js.href.replace(/\.js$/, '.ts'));
    if (!existsSync(fileURLToPath(js)) && existsSync(fileURLToPath(tsUrl)))
      return { url: tsUrl.href, format: 'module', shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const source = await readFile(fileName, 'utf8');
  const key = createHash('sha256')
    .update(JSON.stringify([fileName, source, COMPILER_OPTIONS]))
    .digest('hex');
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return { format: 'module', source: await readFile(cached, 'utf8'), shortCircuit: true };
  } catch {
    // not cached yet
  }
  ts ??= (await import('typescript')).default;
  const { outputText } = ts.transpileModule(source, {
    fileName,
    compilerOptions: ts.convertCompilerOptionsFromJson(COMPILER_OPTIONS, path.dirname(fileName)).options,
  });
  try {
    await mkdir(CACHE_DIR, { recursive: true });
    const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, outputText);
    await rename(tmp, cached);
  } catch {
    // a cache that cannot be written only costs time
  }
  return { format: 'module', source: outputText, shortCircuit: true };
}
