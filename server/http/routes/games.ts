// /api/games: the aggregated library and the state-changing calls on one game.
// Each state-changing call maps to one PeerCommand and answers 202 with the game.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, Game, GameDetail } from '../../../shared/api.js';
import type { PeerCommand } from '../../../shared/commands.js';
import type { PeerRuntime } from '../../runtime/runtime.js';
import { gameIdParam } from './game-id.js';

const IdParams = Type.Object({ id: Type.String() });
const DownloadBodySchema = Type.Object(
  { stream: Type.Optional(Type.Boolean()), install: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const UpdateBodySchema = Type.Object({ install: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
type DownloadBody = { stream?: boolean; install?: boolean };
const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };

const ACTIONS: { method: 'POST' | 'DELETE'; url: string; summary: string; command: (id: string, body: unknown) => PeerCommand }[] = [
  {
    method: 'POST',
    url: '/api/games/:id/download',
    summary:
      'Get the file list from peers and download, then install (body {"stream": true}: streamed install; {"install": false}: download only)',
    command: (id, body) => {
      const b = (body ?? {}) as DownloadBody;
      return b.stream ? { type: 'StreamInstallGame', id } : { type: 'GetGame', id, install: b.install !== false };
    },
  },
  {
    method: 'POST',
    url: '/api/games/:id/update',
    summary: 'Fetch the newest version from peers, then install it (body {"install": false}: download only)',
    command: (id, body) => ({ type: 'FetchLatestFromPeers', id, install: ((body ?? {}) as DownloadBody).install !== false }),
  },
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

export function gamesRoutes(runtime: PeerRuntime) {
  return async (app: FastifyInstance) => {
    app.get('/api/games', { schema: { summary: 'The aggregated library', response: { 200: Type.Array(Game) } } }, async () =>
      runtime.games(),
    );

    app.get(
      '/api/games/:id',
      { schema: { summary: 'One game with its sources and files', params: IdParams, response: { 200: GameDetail, ...errors } } },
      async (request) => runtime.game(gameIdParam(request.params)),
    );

    for (const action of ACTIONS) {
      const body = action.url.endsWith('/download')
        ? Type.Optional(DownloadBodySchema)
        : action.url.endsWith('/update')
          ? Type.Optional(UpdateBodySchema)
          : undefined;
      app.route({
        method: action.method,
        url: action.url,
        schema: { summary: action.summary, params: IdParams, ...(body ? { body } : {}), response: { 202: Game, ...errors } },
        handler: async (request, reply) => {
          const id = gameIdParam(request.params);
          await runtime.execute(action.command(id, request.body));
          return reply.status(202).send(runtime.game(id));
        },
      });
    }
  };
}
