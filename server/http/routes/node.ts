// /api/health, /api/peers, /api/operations, /api/stats, /api/settings.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ActiveOperation, ErrorBody, Health, Peer, Settings, SettingsPatch, Stats } from '../../../shared/api.js';
import { LANSPREAD_VERSION } from '../../runtime/constants.js';
import type { PeerRuntime } from '../../runtime/runtime.js';

export function nodeRoutes(runtime: PeerRuntime): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/api/health', { schema: { summary: 'Liveness and identity', response: { 200: Health } } }, async () => ({
      ok: true,
      peerId: runtime.peerId,
      name: runtime.settings().name,
      version: LANSPREAD_VERSION,
    }));

    app.get('/api/peers', { schema: { summary: 'The known peers', response: { 200: Type.Array(Peer) } } }, async () => runtime.peers());

    app.get(
      '/api/operations',
      { schema: { summary: 'Active operations with their progress', response: { 200: Type.Array(ActiveOperation) } } },
      async () => runtime.listOperations(),
    );

    app.get('/api/stats', { schema: { summary: 'Bytes moved and event-loop delay since start', response: { 200: Stats } } }, async () => ({
      ...runtime.stats.snapshot(),
      eventLoopDelay: runtime.eventLoop.snapshot(),
    }));

    app.get(
      '/api/settings',
      { schema: { summary: "Current settings, with the game dir's free space", response: { 200: Settings } } },
      async () => {
        await runtime.refreshFreeSpace();
        return runtime.settings();
      },
    );

    app.put(
      '/api/settings',
      { schema: { summary: 'Change any subset of the settings', body: SettingsPatch, response: { 200: Settings, 400: ErrorBody } } },
      async (request) => runtime.updateSettings(request.body),
    );
  };
}
