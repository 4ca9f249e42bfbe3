// The quinn transport against the shared compliance suite, over real UDP on loopback.
import { afterEach } from 'vitest';
import { QuinnTransport } from '../../../server/runtime/transport/quinn-transport.js';
import type { Transport } from '../../../server/runtime/transport/transport.js';
import { runTransportCompliance } from '../../unit/transport/compliance.js';
import { UdpProxy } from './udp-proxy.js';

const relays: UdpProxy[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.close();
});

runTransportCompliance({
  name: 'quic',
  create: (identity, options) => new QuinnTransport({ host: '127.0.0.1', ...options, identity }),
  // quinn always says goodbye when closed; a relay that swallows everything makes the peer vanish instead.
  vanishable: async (server: Transport, at) => {
    const relay = new UdpProxy(at);
    relays.push(relay);
    const front = await relay.start();
    return {
      at: front,
      vanish: async () => {
        relay.blackhole = true;
        await server.close();
      },
    };
  },
  streamCount: (t: Transport) => (t as QuinnTransport).stats().streams,
  dialable: (e) => ({ host: e.host === '0.0.0.0' ? '127.0.0.1' : e.host, port: e.port }),
  bulkBytes: 24 * 1024 * 1024,
});
