// Where an extraction worker's code lives. Built (dist/), it is the compiled
// .js beside this module. The test suite runs the .ts sources directly, and
// Node 20 cannot load .ts in a worker: the test setup registers a loader that
// turns a worker's TypeScript entry into runnable JavaScript. The runtime
// itself never loads a compiler.
import { fileURLToPath } from 'node:url';

/** Turns a worker's .ts entry (a path) into the URL of runnable JavaScript. */
export type WorkerSourceLoader = (tsEntry: string) => URL;

let sourceLoader: WorkerSourceLoader | null = null;
const fromSources = new Map<string, URL>();

/** Registered by the test setup, for running from sources. */
export function setWorkerSourceLoader(loader: WorkerSourceLoader | null): void {
  sourceLoader = loader;
  fromSources.clear();
}

/** The worker `name` (without extension) beside `base` (a module's import.meta.url). */
export function workerUrl(name: string, base: string): URL {
  if (!base.endsWith('.ts')) return new URL(`./${name}.js`, base);
  const entry = fileURLToPath(new URL(`./${name}.ts`, base));
  let url = fromSources.get(entry);
  if (!url) {
    if (!sourceLoader)
      throw new Error(`worker ${name} runs from TypeScript sources only with a source loader (the test setup registers one)`);
    url = sourceLoader(entry);
    fromSources.set(entry, url);
  }
  return url;
}
