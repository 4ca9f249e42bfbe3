// The named points of every install transaction where a crash leaves a
// distinct state on disk, and the test-only switch that pauses there:
// `LANSPREAD_TEST_PAUSE_AT=<kind>:<checkpoint>[,<kind>:<checkpoint>...]` makes
// the operation write `PAUSED <kind> <checkpoint>` to stderr and wait until the
// node stops, so a test can SIGKILL the process in exactly that state.
// `<phase>` is reached right after the intent for that phase is written, before
// the phase changes anything; `<phase>:done` after its change, before the next
// intent; `extracting:mid` once the first bytes are extracted (the extraction
// itself goes on, the operation never moves past it).
import type { IntentKind } from './intent-journal.js';

export const CHECKPOINTS = {
  install: ['extracting', 'extracting:mid', 'extracting:done', 'promoting', 'promoting:done', 'cleaning', 'cleaning:done'],
  update: [
    'extracting',
    'extracting:mid',
    'extracting:done',
    'backing-up',
    'backing-up:done',
    'promoting',
    'promoting:done',
    'cleaning',
    'cleaning:done',
  ],
  uninstall: ['moving', 'moving:done', 'deleting', 'deleting:done'],
  remove: ['moving', 'moving:done', 'deleting', 'deleting:done'],
} as const satisfies Record<IntentKind, readonly string[]>;

export type Checkpoint = (typeof CHECKPOINTS)[IntentKind][number];

/** Called at every checkpoint; a promise that does not settle freezes the operation there. */
export type CheckpointHook = (kind: IntentKind, checkpoint: Checkpoint, signal: AbortSignal) => Promise<void> | void;

export const PAUSE_ENV = 'LANSPREAD_TEST_PAUSE_AT';

/** The hook the env switch asks for, or undefined (the normal case). Test-only. */
export function pauseHookFromEnv(value: string | undefined = process.env[PAUSE_ENV]): CheckpointHook | undefined {
  if (!value) return undefined;
  const points = new Set(
    value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  return (kind, checkpoint, signal) => {
    if (!points.has(`${kind}:${checkpoint}`)) return;
    process.stderr.write(`PAUSED ${kind} ${checkpoint}\n`);
    return new Promise<void>((_, reject) => {
      const stop = () => reject(signal.reason instanceof Error ? signal.reason : new Error('paused operation stopped'));
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  };
}
