// A bare QUIC client with an identity of its own, for raw protocol requests
// to a real node process.
import { onTestFinished } from 'vitest';
import { generateIdentity, type Identity } from '../../server/runtime/transport/identity.js';
import { QuinnTransport } from '../../server/runtime/transport/quinn-transport.js';
import type { TransportConnection } from '../../server/runtime/transport/transport.js';

export async function quicClient(
  port: number,
  host = '127.0.0.1',
  identity?: Identity,
): Promise<TransportConnection & { identity: Identity }> {
  const id = identity ?? (await generateIdentity());
  const transport = new QuinnTransport({ host: '127.0.0.1', port: 0, identity: id });
  onTestFinished(() => transport.close());
  const conn = await transport.connect({ host, port });
  return Object.assign(conn, { identity: id });
}
