// A WebSocket to `/api/events` that comes back by itself: when it drops, it
// reconnects after a growing, jittered delay (reset once a connection opens). The
// node sends a LibraryChanged snapshot first on every connection, and the owner is
// told about each (re)open so it can refetch what has no event of its own.
import type { PeerEvent } from '../../../shared/events.js';

export interface EventSocketOptions {
  /** computed on every attempt (the session cookie, not the URL, carries the token) */
  url: () => string;
  onEvent: (event: PeerEvent) => void;
  onOpen: () => void;
  /** `opened` is false when the attempt never connected (refused, or rejected at upgrade) */
  onClose: (opened: boolean) => void;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export class EventSocket {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delayMs: number;
  private running = false;
  private paused = false;

  constructor(private readonly options: EventSocketOptions) {
    this.delayMs = options.initialDelayMs ?? 500;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.paused = false;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }

  /** Stop retrying until resume(), e.g. while the node wants a token we do not have. */
  pause(): void {
    this.paused = true;
    this.clearTimer();
  }

  /** Reconnect now, with a fresh backoff. */
  resume(): void {
    this.paused = false;
    this.delayMs = this.options.initialDelayMs ?? 500;
    this.clearTimer();
    if (!this.running) return this.start();
    if (!this.socket) this.connect();
  }

  private connect(): void {
    if (!this.running || this.paused) return;
    let opened = false;
    const socket = new WebSocket(this.options.url());
    this.socket = socket;

    socket.onopen = () => {
      opened = true;
      this.delayMs = this.options.initialDelayMs ?? 500;
      this.options.onOpen();
    };
    socket.onmessage = (message) => {
      const event = parseEvent(message.data);
      if (event) this.options.onEvent(event);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return; // stopped, or replaced
      this.socket = null;
      this.options.onClose(opened);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (!this.running || this.paused) return;
    const jitter = 0.75 + Math.random() * 0.5;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, this.delayMs * jitter);
    this.delayMs = Math.min(this.delayMs * 2, this.options.maxDelayMs ?? 10_000);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

function parseEvent(data: unknown): PeerEvent | null {
  if (typeof data !== 'string') return null;
  try {
    const value: unknown = JSON.parse(data);
    if (value && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string') {
      return value as PeerEvent;
    }
  } catch {
    // not JSON: ignore it rather than drop the connection
  }
  return null;
}
