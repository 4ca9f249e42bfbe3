// One typed fan-out for PeerEvents. A listener that throws is logged and does
// not stop the others or the emitter.
import type { PeerEvent } from '../../shared/events.js';
import type { Logger } from './logger.js';

export type EventListener = (event: PeerEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly logger: Logger) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: PeerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, event: event.type }, 'event listener failed');
      }
    }
  }
}
