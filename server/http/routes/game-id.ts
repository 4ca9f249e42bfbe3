import { ErrorCode } from '../../../shared/error-codes.js';
import { isGameId } from '../../../shared/game-id.js';
import { LanspreadError } from '../../runtime/errors.js';

/** The `:id` of a games route, refused with 400 when it cannot be a game id. */
export function gameIdParam(id: string): string {
  const shown = id.slice(0, 80);
  if (!isGameId(id)) {
    throw new LanspreadError(ErrorCode.InvalidGameId, `"${shown}" is not a valid game id (lowercase a-z, 0-9, _ and -, at most 64)`);
  }
  return id;
}
