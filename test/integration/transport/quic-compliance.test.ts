// The QUIC transport against the shared compliance suite, over real UDP on loopback.
import { QuicTransport } from '../../../server/runtime/transport/quic-transport.js';
import type { Transport } from '../../../server/runtime/transport/transport.js';
import { runTransportCompliance } from '../../unit/transport/compliance.js';

runTransportCompliance({
  name: 'quic',
  create: (identity, options) => new QuicTransport({ host: '127.0.0.1', ...options, key: identity.key, cert: identity.cert }),
  abort: (t: Transport) => (t as QuicTransport).abort(),
  streamCount: (t: Transport) => (t as QuicTransport).stats().streams,
  dialable: (e) => ({ host: e.host === '0.0.0.0' ? '127.0.0.1' : e.host, port: e.port }),
  bulkBytes: 24 * 1024 * 1024,
});
