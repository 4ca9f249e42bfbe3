// /api/queue: the transfer queue (downloads, updates and streamed installs
// waiting for a slot), its order and its removals. Thin: the runtime's queue
// keeps the rules; every answer is the queue as it is afterwards.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody, Queue, QueueMove, QueueOrder } from '../../../shared/api.js';
import type { PeerRuntime } from '../../runtime/runtime.js';
import { gameIdParam } from './game-id.js';

const IdParams = Type.Object({ id: Type.String() });

export function queueRoutes(runtime: PeerRuntime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/queue', { schema: { summary: 'The transfer queue, next first', response: { 200: Queue } } }, async () =>
      runtime.activity.queue.snapshot(),
    );

    app.put(
      '/api/queue',
      {
        schema: {
          summary: 'Reorder the queue: every queued game id once, next first',
          body: QueueOrder,
          response: { 200: Queue, 400: ErrorBody, 409: ErrorBody },
        },
      },
      async (request) => {
        await runtime.activity.queue.reorder(request.body.order.map((id) => gameIdParam(id)));
        return runtime.activity.queue.snapshot();
      },
    );

    app.post(
      '/api/queue/:id/move',
      {
        schema: {
          summary: 'Move a queued game to a position (1 = next; past the end = last)',
          params: IdParams,
          body: QueueMove,
          response: { 200: Queue, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        await runtime.activity.queue.move(gameIdParam(request.params.id), request.body.position);
        return runtime.activity.queue.snapshot();
      },
    );

    app.delete(
      '/api/queue/:id',
      {
        schema: {
          summary: 'Take a game out of the queue (it does not start)',
          params: IdParams,
          response: { 200: Queue, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (request) => {
        await runtime.activity.queue.remove(gameIdParam(request.params.id));
        return runtime.activity.queue.snapshot();
      },
    );
  };
}
