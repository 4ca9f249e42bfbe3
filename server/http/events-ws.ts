// Bridges runtime events to WebSocket clients of /api/events: one JSON message
// `{type, ...}` per PeerEvent, after a first snapshot so a client never starts
// from nothing. A client that cannot keep up is disconnected rather than
// buffered without bound.
import type { FastifyInstance } from 'fastify';
import type { PeerEvent } from '../../shared/events.js';
import type { PeerRuntime } from '../runtime/runtime.js';

const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export function eventsRoute(runtime: PeerRuntime) {
  return async (app: FastifyInstance) => {
    app.get('/api/events', { websocket: true, schema: { hide: true } }, (socket) => {
      const send = (event: PeerEvent) => {
        if (socket.readyState !== socket.OPEN) return;
        if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          socket.close(1013, 'client too slow');
          return;
        }
        socket.send(JSON.stringify(event));
      };
      send({ type: 'LibraryChanged', games: runtime.games() });
      send({ type: 'OperationsChanged', operations: runtime.listOperations() });
      send({ type: 'PeerCount', count: runtime.peers().length });
      const unsubscribe = runtime.subscribe(send);
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);
    });
  };
}
