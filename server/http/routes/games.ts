// /api/games: the aggregated library and the state-changing calls on one game.
// Each state-changing call maps to one PeerCommand and answers 202 with the game.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody, Game, GameDetail } from '../../../shared/api.js';
import type { PeerCommand } from '../../../shared/commands.js';
import type { PeerRuntime } from '../../runtime/runtime.js';
import { gameIdParam } from './game-id.js';

const IdParams = Type.Object({ id: Type.String() });
const DownloadBody = Type.Object(
  { stream: Type.Optional(Type.Boolean()), install: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const UpdateBody = Type.Object({ install: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };

/** The state-changing calls without a body. */
const PLAIN_ACTIONS: { method: 'POST' | 'DELETE'; url: string; summary: string; command: (id: string) => PeerCommand }[] = [
  { method: 'POST', url: '/api/games/:id/install', summary: 'Install a downloaded game', command: (id) => ({ type: 'InstallGame', id }) },
  { method: 'POST', url: '/api/games/:id/uninstall', summary: 'Remove local/', command: (id) => ({ type: 'UninstallGame', id }) },
  {
    method: 'POST',
    url: '/api/games/:id/cancel',
    summary: 'Cancel the active download',
    command: (id) => ({ type: 'CancelDownload', id }),
  },
  {
    method: 'DELETE',
    url: '/api/games/:id/files',
    summary: 'Remove the downloaded files',
    command: (id) => ({ type: 'RemoveDownloadedGame', id }),
  },
];

export function gamesRoutes(runtime: PeerRuntime): FastifyPluginAsyncTypebox {
  return async (app) => {
    /** Run the command and answer 202 with the game as it is now. */
    const act = async (id: string, command: PeerCommand) => {
      await runtime.execute(command);
      return runtime.game(id);
    };

    app.get('/api/games', { schema: { summary: 'The aggregated library', response: { 200: Type.Array(Game) } } }, async () =>
      runtime.games(),
    );

    app.get(
      '/api/games/:id',
      { schema: { summary: 'One game with its sources and files', params: IdParams, response: { 200: GameDetail, ...errors } } },
      async (request) => runtime.game(gameIdParam(request.params.id)),
    );

    app.post(
      '/api/games/:id/download',
      {
        schema: {
          summary:
            'Get the file list from peers and download, then install (body {"stream": true}: streamed install; {"install": false}: download only)',
          params: IdParams,
          body: Type.Optional(DownloadBody),
          response: { 202: Game, ...errors },
        },
      },
      async (request, reply) => {
        const id = gameIdParam(request.params.id);
        const { stream, install } = request.body ?? {};
        const command: PeerCommand = stream ? { type: 'StreamInstallGame', id } : { type: 'GetGame', id, install: install !== false };
        return reply.status(202).send(await act(id, command));
      },
    );

    app.post(
      '/api/games/:id/update',
      {
        schema: {
          summary: 'Fetch the newest version from peers, then install it (body {"install": false}: download only)',
          params: IdParams,
          body: Type.Optional(UpdateBody),
          response: { 202: Game, ...errors },
        },
      },
      async (request, reply) => {
        const id = gameIdParam(request.params.id);
        const install = request.body?.install !== false;
        return reply.status(202).send(await act(id, { type: 'FetchLatestFromPeers', id, install }));
      },
    );

    for (const a of PLAIN_ACTIONS) {
      app.route({
        method: a.method,
        url: a.url,
        schema: { summary: a.summary, params: IdParams, response: { 202: Game, ...errors } },
        handler: async (request, reply) => {
          const id = gameIdParam(request.params.id);
          return reply.status(202).send(await act(id, a.command(id)));
        },
      });
    }
  };
}
