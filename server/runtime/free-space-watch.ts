// The game dir's free space as the API shows it: read at start, every few
// seconds and on activity (at most once a second), through the same
// injectable DiskSpace the checks use; and, from it, whether a game's next
// step visibly cannot fit. This is a hint for the dashboard: the request
// itself checks again, exactly (disk-space.ts).
import type { SpaceShortfall } from '../../shared/api.js';
import type { LocalGame } from '../../shared/events.js';
import { notEnoughSpaceMessage, type DiskSpace } from './disk-space.js';

/** How often free space is read again, and the least age of a reading taken again on activity. */
export const FREE_SPACE_REFRESH_MS = 10_000;
export const FREE_SPACE_MIN_AGE_MS = 1_000;

export class FreeSpaceWatch {
  /** free bytes of the game dir's file system; null until read, or when it cannot be read */
  free: number | null = null;
  private readAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly space: DiskSpace,
    private readonly dir: () => string,
    /** a fingerprint of every game's verdict: a change after a reading is announced */
    private readonly verdicts: () => string,
    private readonly changed: () => void,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), FREE_SPACE_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Read again, unless the last reading is younger than `minAgeMs`. */
  async refresh(minAgeMs = 0): Promise<void> {
    const now = performance.now();
    if (now - this.readAt < minAgeMs) return;
    this.readAt = now;
    const before = this.verdicts();
    try {
      this.free = await this.space.free(this.dir());
    } catch {
      this.free = null;
    }
    if (this.verdicts() !== before) this.changed();
  }
}

/**
 * Whether a game's next step visibly cannot fit in `free` bytes: a download
 * needs at least what its sources announce (`announced`) less what is already
 * here, an install at least its archives' size (extracted is rarely smaller).
 */
export function spaceShortfall(
  id: string,
  free: number | null,
  local: LocalGame | undefined,
  announced: number | null,
): SpaceShortfall | null {
  if (free === null || local?.installed) return null;
  let action: SpaceShortfall['action'];
  let needed: number;
  if (local?.downloaded) {
    action = 'install';
    needed = local.size;
  } else {
    if (announced === null) return null;
    action = 'download';
    needed = announced - (local?.size ?? 0);
  }
  if (needed <= free) return null;
  return { action, neededBytes: needed, freeBytes: free, message: notEnoughSpaceMessage(`${action} "${id}"`, needed, free) };
}
