// A UDP relay between one client and one server for tests: it can drop a
// share of the datagrams (deterministically) or all of them (the server
// vanished, as a crashed host or a pulled cable would), and records what it
// forwards.
import dgram from 'node:dgram';
import type { Endpoint } from '../../../server/runtime/transport/transport.js';

export interface ProxyOptions {
  /** Share of datagrams dropped in each direction, 0–1. */
  loss?: number;
  seed?: number;
  /** Sees every datagram before it is forwarded. */
  tap?: (msg: Buffer, fromClient: boolean) => void;
  /** Forwards nothing from the server to the client (the client's handshakes never complete). */
  dropFromServer?: boolean;
}

export class UdpProxy {
  maxDatagram = 0;
  forwarded = 0;
  /** While true, nothing passes in either direction. */
  blackhole = false;
  dropped = 0;
  private readonly front = dgram.createSocket('udp4');
  private readonly back = dgram.createSocket('udp4');
  private client: { address: string; port: number } | null = null;
  private rng: number;

  constructor(
    private readonly server: Endpoint,
    private readonly options: ProxyOptions = {},
  ) {
    this.rng = options.seed ?? 1;
  }

  async start(): Promise<Endpoint> {
    await new Promise<void>((r) => this.back.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', r));
    this.front.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.forward(msg, true);
    });
    this.back.on('message', (msg) => this.forward(msg, false));
    return { host: '127.0.0.1', port: this.front.address().port };
  }

  async close(): Promise<void> {
    await Promise.all([new Promise<void>((r) => this.front.close(() => r())), new Promise<void>((r) => this.back.close(() => r()))]);
  }

  private random(): number {
    // xorshift32: reproducible losses
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng / 2 ** 32;
  }

  private forward(msg: Buffer, fromClient: boolean): void {
    this.options.tap?.(msg, fromClient);
    this.maxDatagram = Math.max(this.maxDatagram, msg.length);
    if (this.blackhole || (!fromClient && this.options.dropFromServer) || this.random() < (this.options.loss ?? 0)) {
      this.dropped++;
      return;
    }
    this.forwarded++;
    if (fromClient) this.back.send(msg, this.server.port, this.server.host);
    else if (this.client) this.front.send(msg, this.client.port, this.client.address);
  }
}
