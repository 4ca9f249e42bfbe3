// The node's one UDP socket, used for accepting and dialing alike.
//
// Sending reuses one packet buffer: addresses are always IP literals and the
// socket's lookup answers synchronously, so dgram hands each datagram to the
// kernel before send() returns (uv_udp_try_send). Only when the kernel pushes
// back does libuv queue the datagram and keep a reference to its bytes; then
// (send queue not empty) the next packet gets a fresh buffer. In steady state
// nothing is allocated per packet on our side.
import dgram from 'node:dgram';
import net from 'node:net';
import { BindFailedError } from './errors.js';
import type { TransportLogger } from './transport.js';

export type DatagramHandler = (msg: Buffer, rinfo: dgram.RemoteInfo) => void;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

let lastHost = '';
let lastFamily = 0;

function syncLookup(hostname: string, _options: unknown, callback: LookupCallback): void {
  // Called once per datagram with the same few addresses: skip the regex.
  if (hostname !== lastHost) {
    lastHost = hostname;
    lastFamily = net.isIP(hostname);
  }
  const family = lastFamily;
  if (family === 0) {
    const err: NodeJS.ErrnoException = new Error(`not an IP address: ${hostname}`);
    err.code = 'EINVAL';
    callback(err, hostname, 4);
    return;
  }
  callback(null, hostname, family);
}

export class UdpSocket {
  readonly family: 4 | 6;
  private readonly socket: dgram.Socket;
  private out: Buffer;
  private bound = false;
  private closed = false;
  /** Datagrams that had to be queued in libuv (kernel buffer full). */
  queuedSends = 0;
  sendErrors = 0;

  constructor(
    host: string,
    private readonly bufferBytes: number,
    private readonly packetSize: number,
    onMessage: DatagramHandler,
    private readonly logger: TransportLogger,
  ) {
    this.family = net.isIPv6(host) ? 6 : 4;
    this.socket = dgram.createSocket({
      type: this.family === 6 ? 'udp6' : 'udp4',
      lookup: syncLookup as unknown as dgram.SocketOptions['lookup'],
    });
    this.socket.on('message', onMessage);
    this.socket.on('error', (err) => {
      this.sendErrors++;
      this.logger.debug({ err }, 'udp socket error');
    });
    this.out = Buffer.allocUnsafeSlow(packetSize);
  }

  async bind(host: string, port: number): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new BindFailedError(host, port, err));
      this.socket.once('error', onError);
      this.socket.bind({ address: host, port, exclusive: true }, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
    for (const set of [(n: number) => this.socket.setRecvBufferSize(n), (n: number) => this.socket.setSendBufferSize(n)]) {
      try {
        set(this.bufferBytes);
      } catch (err) {
        this.logger.warn({ err }, 'cannot enlarge the UDP socket buffer');
      }
    }
    this.bound = true;
    const a = this.socket.address();
    return { host: a.address, port: a.port };
  }

  /** The buffer the next packet is to be written into (packetSize bytes). */
  get packetBuffer(): Buffer {
    return this.out;
  }

  /** Sends the first `length` bytes of `packetBuffer`. */
  send(length: number, port: number, host: string): void {
    if (!this.bound || this.closed) return;
    try {
      this.socket.send(this.out, 0, length, port, host);
    } catch (err) {
      this.sendErrors++;
      this.logger.debug({ err }, 'udp send failed');
      return;
    }
    if (this.socket.getSendQueueCount() > 0) {
      // libuv holds on to these bytes until the kernel takes them.
      this.queuedSends++;
      this.out = Buffer.allocUnsafe(this.packetSize);
    }
  }

  /** Sends arbitrary bytes (tests and diagnostics; not the hot path). */
  sendRaw(data: Uint8Array, port: number, host: string): void {
    if (!this.bound || this.closed) return;
    this.socket.send(data, port, host);
  }

  getBufferSizes(): { recv: number; send: number } {
    return { recv: this.socket.getRecvBufferSize(), send: this.socket.getSendBufferSize() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.bound) {
      try {
        this.socket.close();
      } catch {
        // never bound: nothing to release
      }
      return;
    }
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
