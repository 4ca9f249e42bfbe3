// /api/history and /api/stats/history: what the node did (finished operations)
// and how fast it moved bytes over the last minutes, so a dashboard opened or
// reloaded later shows both at once.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { HistoryEntry, StatsHistory } from '../../../shared/api.js';
import type { PeerRuntime } from '../../runtime/runtime.js';

export function historyRoutes(runtime: PeerRuntime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/history',
      { schema: { summary: 'Finished operations, newest first (the last 100)', response: { 200: Type.Array(HistoryEntry) } } },
      async () => runtime.activity.history.list(),
    );

    app.get(
      '/api/stats/history',
      {
        schema: {
          summary: 'Download, upload and install disk-write throughput, one sample per second for the last 5 minutes',
          response: { 200: StatsHistory },
        },
      },
      async () => runtime.activity.throughput.history(),
    );
  };
}
