// `npm run bench`: every benchmark, each beside its baseline measured in the
// same run on the same machine; prints Markdown tables ready for docs/BENCHMARKS.md.
// `npm run bench -- scan` runs only the named ones.
import { formatTable, machine, type BenchResult } from './bench-util.js';
import { runScanBench } from './library/scan-bench.js';
import { runChunkSizeBench, runDownloadBench } from './download/download-bench.js';
import { runTransportBench } from './transport/transport-bench.js';
import { runExtractBench } from './install/extract-bench.js';
import { runSwarmBench } from './swarm/swarm-bench.js';

const BENCHES: Record<string, { title: string; run: () => Promise<BenchResult[]> }> = {
  scan: { title: 'Library scan', run: () => runScanBench() },
  transport: { title: 'QUIC transport, 1 GiB between two processes', run: () => runTransportBench() },
  extract: { title: 'Extraction', run: () => runExtractBench() },
  download: { title: 'Downloads between nodes', run: () => runDownloadBench() },
  chunks: { title: 'Chunk size (baseline: 16 MiB chunks, the default before swarming)', run: () => runChunkSizeBench() },
  swarm: { title: 'Swarm: 1 seed and N players on rate-limited test hosts (baseline: the fluid lower bound)', run: () => runSwarmBench() },
};

const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
console.log(`Lanspread benchmarks, ${new Date().toISOString().slice(0, 10)}, ${machine()}\n`);
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exitCode = 1;
    continue;
  }
  console.log(formatTable(bench.title, await bench.run()));
}
