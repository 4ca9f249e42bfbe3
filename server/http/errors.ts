// One error handler: every failure leaves as `{"error": {"code", "message"}}`.
// Stable codes map to statuses here and only here; bad input is a 4xx, never a 500.
import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrorCode } from '../../shared/error-codes.js';
import { LanspreadError } from '../runtime/errors.js';

const STATUS: Record<string, number> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.InvalidGameId]: 400,
  [ErrorCode.InvalidSettings]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.ForbiddenHost]: 403,
  [ErrorCode.ForbiddenOrigin]: 403,
  [ErrorCode.UnknownGame]: 404,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.OperationActive]: 409,
  [ErrorCode.NotDownloaded]: 409,
  [ErrorCode.NotInstalled]: 409,
  [ErrorCode.Installed]: 409,
  [ErrorCode.NoPeers]: 409,
  [ErrorCode.PeersGone]: 409,
  // free space checked before work starts (server/runtime/disk-space.ts); 507 is not a client error
  [ErrorCode.NotEnoughSpace]: 409,
  [ErrorCode.DiskFull]: 409,
  [ErrorCode.NotImplemented]: 501,
  // install transactions (server/runtime/install/transactions.ts)
  reserved_path_in_use: 409,
  no_archives: 409,
  game_root_invalid: 409,
  recovery_failed: 409,
  shutting_down: 503,
  // cancel with no download or streamed install running (server/runtime/stream-install/)
  no_download: 409,
};

export function statusFor(code: string): number {
  return STATUS[code] ?? 500;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | LanspreadError, request, reply) => {
    if (err instanceof LanspreadError) {
      return reply.status(statusFor(err.code)).send({ error: { code: err.code, message: err.message } });
    }
    const status = (err as FastifyError).statusCode;
    if ((err as FastifyError).validation) {
      return reply.status(400).send({ error: { code: ErrorCode.BadRequest, message: err.message } });
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: ErrorCode.BadRequest, message: err.message } });
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: { code: ErrorCode.Internal, message: 'internal error; see the node log' } });
  });
}
