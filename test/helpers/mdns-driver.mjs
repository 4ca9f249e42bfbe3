// One MdnsDiscovery in its own process, for scenario tests that start it inside
// a network namespace (`ip netns exec <ns> node mdns-driver.mjs '<options json>'`).
// It runs the TypeScript sources through ts-hooks.mjs, so no build is needed.
// Reports on stdout, one JSON object a line: {"event":"started"},
// {"event":"peer","peer":{…}}, {"event":"peer-expired","peerId"},
// {"event":"stopped"}, {"event":"error","message"}. A line "stop" on stdin (or
// stdin closing) stops it, which sends the goodbye, and exits. Logs go to stderr.
// With `--warm` it only loads the sources (filling the transpile cache) and exits.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
const { MdnsDiscovery } = await import('../../server/runtime/discovery/index.ts');
if (process.argv[2] === '--warm') process.exit(0);

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const logAt = (level) => (obj, msg) =>
  process.stderr.write(`${JSON.stringify({ level, msg, ...obj, err: obj?.err ? String(obj.err) : undefined })}\n`);
const logger = { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') };

const opts = JSON.parse(process.argv[2] ?? '{}');
const discovery = new MdnsDiscovery({ ...opts, logger });
discovery.on('peer', (peer) => say({ event: 'peer', peer }));
discovery.on('peer-expired', (peerId) => say({ event: 'peer-expired', peerId }));

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await discovery.stop();
  say({ event: 'stopped' });
  process.exit(0);
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  if (chunk.split('\n').includes('stop')) void stop();
});
process.stdin.on('end', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  await discovery.start();
  say({ event: 'started' });
} catch (err) {
  say({ event: 'error', message: String(err) });
  process.exit(1);
}
