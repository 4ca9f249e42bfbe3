// A game id is a catalog id and also the folder name of its game root, so it must
// never be able to name anything but a direct child of the game dir.
export const GAME_ID_PATTERN = '^[a-z0-9_-]{1,64}$';
const GAME_ID_RE = new RegExp(GAME_ID_PATTERN);

export function isGameId(value: unknown): value is string {
  return typeof value === 'string' && GAME_ID_RE.test(value);
}
