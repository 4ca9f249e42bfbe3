// Every test file runs the runtime from its TypeScript sources: extraction
// workers get their code through the transpiling loader (the runtime never
// loads a compiler itself).
import { setWorkerSourceLoader } from '../../server/runtime/extract/worker-url.js';
import { transpileWorkerGraph } from '../helpers/worker-transpile.js';

setWorkerSourceLoader(transpileWorkerGraph);
