// The memory transport against the shared compliance suite, plus what only it has.
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, MemoryTransport } from '../../../server/runtime/transport/memory-transport.js';
import type { Transport } from '../../../server/runtime/transport/transport.js';
import { runTransportCompliance } from './compliance.js';
import { readAll } from './helpers.js';

const network = new MemoryNetwork();

runTransportCompliance({
  name: 'memory',
  create: (identity, options) => new MemoryTransport({ ...options, identity, network }),
  vanishable: (server: Transport, at) => Promise.resolve({ at, vanish: () => (server as MemoryTransport).abort() }),
  streamCount: (t: Transport) => (t as MemoryTransport).listConnections().reduce((n, c) => n + c.stats().streams, 0),
  dialable: (e) => e,
  bulkBytes: 24 * 1024 * 1024,
});

describe('memory transport', () => {
  it('delays every delivery by the injected latency', async () => {
    const net = new MemoryNetwork();
    const server = new MemoryTransport({ network: net, latencyMs: 40 });
    const client = new MemoryTransport({ network: net, latencyMs: 40 });
    server.onConnection((c) => c.onStream((s) => s.pipe(s)));
    const conn = await client.connect(await server.listen());
    const s = await conn.openStream();
    const t0 = performance.now();
    const reply = readAll(s);
    s.end('x');
    expect((await reply).toString()).toBe('x');
    // open, data and FIN out, data and FIN back: at least two one-way trips.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    await client.close();
    await server.close();
  });

  it('keeps separate networks apart', async () => {
    const a = new MemoryTransport({ network: new MemoryNetwork() });
    const b = new MemoryTransport({ network: new MemoryNetwork() });
    const at = await a.listen();
    await expect(b.connect(at)).rejects.toMatchObject({ code: 'connect_failed' });
    await a.close();
    await b.close();
  });
});
