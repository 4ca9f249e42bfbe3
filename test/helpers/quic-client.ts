// A bare QUIC client with the shipped development certificate, for raw
// protocol requests to a real node process.
import fs from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { QuicTransport } from '../../server/runtime/transport/quic-transport.js';
import type { TransportConnection } from '../../server/runtime/transport/transport.js';
import { PROJECT_ROOT } from './node-process.js';

export async function quicClient(port: number, host = '127.0.0.1'): Promise<TransportConnection> {
  const transport = new QuicTransport({
    host: '127.0.0.1',
    port: 0,
    key: fs.readFileSync(path.join(PROJECT_ROOT, 'certs', 'key.pem')),
    cert: fs.readFileSync(path.join(PROJECT_ROOT, 'certs', 'cert.pem')),
  });
  onTestFinished(() => transport.close());
  await transport.listen();
  return transport.connect({ host, port });
}
