// Test setup only: the extraction workers' module graphs are transpiled from
// the TypeScript sources with the TypeScript compiler (a dev dependency) into
// node_modules/.cache, so a worker started from sources always runs plain
// JavaScript built from the current sources (Node 20 cannot load .ts in a
// worker). Registered as the runtime's worker source loader by test/setup/.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as TypeScriptModule from 'typescript';

/** Transpile the module graph of a worker written in TypeScript (run from sources); returns its entry. */
export function transpileWorkerGraph(entry: string): URL {
  const ts = createRequire(import.meta.url)('typescript') as typeof TypeScriptModule;
  const root = packageRoot(path.dirname(entry));
  const outRoot = path.join(root, 'node_modules', '.cache', 'lanspread-rar-worker');
  mkdirSync(outRoot, { recursive: true });
  writeIfChanged(path.join(outRoot, 'package.json'), '{ "type": "module" }\n');

  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) {
      const spec = imported.fileName;
      if (!spec.startsWith('.') || !spec.endsWith('.js')) continue;
      const target = path.resolve(path.dirname(file), `${spec.slice(0, -3)}.ts`);
      if (existsSync(target)) pending.push(target);
    }
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
    });
    const dest = path.join(outRoot, path.relative(root, file)).replace(/\.ts$/, '.js');
    writeIfChanged(dest, out.outputText);
  }
  return pathToFileURL(path.join(outRoot, path.relative(root, entry)).replace(/\.ts$/, '.js'));
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('rar-worker-entry: no package.json above the sources');
  }
}

/** Several test processes may do this at once: write aside, then rename. */
function writeIfChanged(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) return;
  } catch {
    // not there yet
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
