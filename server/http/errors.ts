// One error handler: every failure leaves as `{"error": {"code", "message"}}`.
// Stable codes map to statuses here and only here; bad input is a 4xx, never a 500.
import type { FastifyError, FastifyInstance } from 'fastify';
import {
  ErrorCode,
  ExtractErrorCode,
  InstallErrorCode,
  QueueErrorCode,
  StreamInstallErrorCode,
  TransportErrorCode,
  WireErrorCode,
} from '../../shared/error-codes.js';
import { LanspreadError } from '../runtime/errors.js';

/**
 * The status of every code: typed by the registry, so a new code without a
 * status does not compile. Only `internal` and `shutting_down` are 5xx; a
 * refusal that depends on the game's or the peers' state is a 409.
 */
export const STATUS: Record<ErrorCode, number> = {
  // general
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.InvalidGameId]: 400,
  [ErrorCode.InvalidSettings]: 400,
  [ErrorCode.InvalidConfig]: 400,
  [ErrorCode.InvalidCatalog]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.ForbiddenHost]: 403,
  [ErrorCode.ForbiddenOrigin]: 403,
  [ErrorCode.UnknownGame]: 404,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.OperationActive]: 409,
  [ErrorCode.NotDownloaded]: 409,
  [ErrorCode.NotInstalled]: 409,
  [ErrorCode.Installed]: 409,
  [ErrorCode.UpToDate]: 409,
  [ErrorCode.NoDownload]: 409,
  [ErrorCode.Cancelled]: 409,
  [ErrorCode.NoPeers]: 409,
  [ErrorCode.PeersGone]: 409,
  [ErrorCode.BadFileList]: 409,
  [ErrorCode.BadTarget]: 409,
  [ErrorCode.Timeout]: 409,
  [ErrorCode.PeerError]: 409,
  [ErrorCode.MdnsUnavailable]: 409,
  // free space checked before work starts (server/runtime/disk-space.ts); 507 is not a client error
  [ErrorCode.NotEnoughSpace]: 409,
  [ErrorCode.DiskFull]: 409,
  [ErrorCode.ShuttingDown]: 503,
  [ErrorCode.Internal]: 500,
  // the transfer queue
  [QueueErrorCode.AlreadyQueued]: 409,
  [QueueErrorCode.NotQueued]: 404,
  [QueueErrorCode.OrderMismatch]: 409,
  // install transactions
  [InstallErrorCode.ReservedPathInUse]: 409,
  [InstallErrorCode.NoArchives]: 409,
  [InstallErrorCode.GameRootInvalid]: 409,
  [InstallErrorCode.RecoveryFailed]: 409,
  [InstallErrorCode.Failed]: 409,
  // extraction: the game's archives (or the disk) refuse the install
  [ExtractErrorCode.Encrypted]: 409,
  [ExtractErrorCode.BadPassword]: 409,
  [ExtractErrorCode.Damaged]: 409,
  [ExtractErrorCode.UnsafeEntry]: 409,
  [ExtractErrorCode.Multivolume]: 409,
  [ExtractErrorCode.VolumeMissing]: 409,
  [ExtractErrorCode.Unsupported]: 409,
  [ExtractErrorCode.Unreadable]: 409,
  [ExtractErrorCode.DestInvalid]: 409,
  [ExtractErrorCode.NoSpace]: 409,
  [ExtractErrorCode.Aborted]: 409,
  [ExtractErrorCode.Failed]: 409,
  // streamed installs
  [StreamInstallErrorCode.CrcMismatch]: 409,
  [StreamInstallErrorCode.CrcMissing]: 409,
  [StreamInstallErrorCode.Protocol]: 409,
  [StreamInstallErrorCode.Stalled]: 409,
  [StreamInstallErrorCode.VersionMismatch]: 409,
  [StreamInstallErrorCode.NoValidatedPeer]: 409,
  // a peer's refusal, passed on
  [WireErrorCode.NotServed]: 409,
  [WireErrorCode.OutOfRange]: 409,
  [WireErrorCode.IdentityMismatch]: 409,
  [WireErrorCode.Self]: 409,
  [WireErrorCode.HelloRequired]: 409,
  [WireErrorCode.Busy]: 409,
  [WireErrorCode.WrongManifest]: 409,
  [WireErrorCode.ChunkUnavailable]: 409,
  [WireErrorCode.Spreading]: 409,
  // the connection to a peer failed
  [TransportErrorCode.TransportClosed]: 409,
  [TransportErrorCode.BindFailed]: 409,
  [TransportErrorCode.ConnectFailed]: 409,
  [TransportErrorCode.ConnectTimeout]: 409,
  [TransportErrorCode.ConnectionClosed]: 409,
  [TransportErrorCode.ConnectionLimit]: 409,
  [TransportErrorCode.StreamReset]: 409,
  [TransportErrorCode.StreamStopped]: 409,
  [TransportErrorCode.StreamFailed]: 409,
  [TransportErrorCode.InvalidOptions]: 409,
  [TransportErrorCode.BindingMismatch]: 409,
  [TransportErrorCode.IdentityFailed]: 409,
  [TransportErrorCode.FrameTooLarge]: 409,
  [TransportErrorCode.FrameMalformed]: 409,
  [TransportErrorCode.FrameTruncated]: 409,
  [TransportErrorCode.EndOfStream]: 409,
};

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | LanspreadError, request, reply) => {
    if (err instanceof LanspreadError) {
      return reply.status(STATUS[err.code]).send({ error: { code: err.code, message: err.message } });
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
