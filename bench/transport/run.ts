// Runs the transport benchmark on its own:
//   node dist/bench/transport/run.js [--bytes N] [--parallel N] [--repeat N] [--profile DIR]
// (or through tsx on the .ts source). bench/run.ts calls runTransportBench().
import { pathToFileURL } from 'node:url';
import { formatTable, machine } from '../bench-util.js';
import { runTransportCases, toBenchResults, type TransportBenchOptions } from './transport-bench.js';

export { runTransportBench } from './transport-bench.js';

function parseArgs(argv: string[]): { options: TransportBenchOptions; repeat: number } {
  const options: TransportBenchOptions = {};
  let repeat = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    switch (arg) {
      case '--bytes':
        options.bytes = Number(value);
        i++;
        break;
      case '--parallel':
        options.parallel = Number(value);
        i++;
        break;
      case '--repeat':
        repeat = Number(value);
        i++;
        break;
      case '--profile':
        options.cpuProfileDir = value;
        i++;
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return { options, repeat };
}

async function main(): Promise<void> {
  const { options, repeat } = parseArgs(process.argv.slice(2));
  console.log(`Transport benchmark, ${new Date().toISOString().slice(0, 10)}, ${machine()}\n`);
  for (let r = 1; r <= repeat; r++) {
    const results = toBenchResults(await runTransportCases(options));
    console.log(formatTable(`QUIC transport (run ${r} of ${repeat})`, results));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
