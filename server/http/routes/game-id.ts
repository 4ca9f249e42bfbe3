import { ErrorCode } from '../../../shared/error-codes.js';
import { isGameId } from '../../../shared/game-id.js';
import { LanspreadError } from '../../runtime/errors.js';

/** The `:id` of a games route, refused with 400 when it cannot be a game id. */
export function gameIdParam(params: unknown): string {
  const id = (params as { id?: unknown }).id;
  if (!isGameId(id)) {
    const shown = typeof id === 'string' ? id.slice(0, 80) : '';
    throw new LanspreadError(ErrorCode.InvalidGameId, `"${shown}" is not a valid game id (lowercase a-z, 0-9, _ and -, at most 64)`);
  }
  return id;
}
