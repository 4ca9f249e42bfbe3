// A plain TCP flood for checking link rates between netns hosts (no TypeScript,
// no project code: it starts in a few tens of milliseconds).
//   node flood.mjs sink PORT            count the bytes of every connection; print
//                                       {"ms":…,"bytes":…} (running total) every 50 ms
//   node flood.mjs send SECONDS ADDR:PORT…   write as fast as TCP takes it to every
//                                       target for SECONDS, then exit
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'sink') {
  let bytes = 0;
  const t0 = performance.now();
  const server = net.createServer((c) => {
    c.on('data', (d) => (bytes += d.length));
    c.on('error', () => {});
  });
  server.listen(Number(args[0]), () => {
    console.log(JSON.stringify({ ready: true }));
    setInterval(() => console.log(JSON.stringify({ ms: performance.now() - t0, bytes })), 50);
  });
} else if (mode === 'send') {
  const seconds = Number(args[0]);
  const block = Buffer.alloc(64 * 1024, 0x5a);
  const sockets = args.slice(1).map((target) => {
    const [host, port] = target.split(':');
    const s = net.connect(Number(port), host);
    const pump = () => {
      while (s.write(block));
    };
    s.on('connect', pump);
    s.on('drain', pump);
    s.on('error', (err) => {
      console.error(`${target}: ${err.message}`);
      process.exit(1);
    });
    return s;
  });
  setTimeout(() => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }, seconds * 1000);
} else {
  console.error('usage: flood.mjs sink PORT | send SECONDS ADDR:PORT…');
  process.exit(2);
}
