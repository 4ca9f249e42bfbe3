// Tests that need something of the machine (root, network namespaces, Avahi, a
// browser) skip with the reason where it is missing. CI sets
// LANSPREAD_TEST_STRICT=1: there a missing prerequisite fails the run, so a
// skipped test can never count as a passing one.
import type { TestContext } from 'vitest';

export interface Prerequisite {
  ok: boolean;
  reason?: string;
}

export const STRICT = process.env.LANSPREAD_TEST_STRICT === '1';

/** Whether a suite whose prerequisite is missing should be skipped; in strict mode it runs and fails. */
export function skipSuite(prerequisite: Prerequisite, what: string): boolean {
  if (prerequisite.ok || STRICT) return false;
  console.warn(`${what} skipped: ${prerequisite.reason ?? 'prerequisite missing'}`);
  return true;
}

/** The first thing a suite's tests do when `skipSuite` may have let them run without their prerequisite. */
export function requirePrerequisite(prerequisite: Prerequisite, what: string): void {
  if (!prerequisite.ok) {
    throw new Error(`${what}: ${prerequisite.reason ?? 'prerequisite missing'} (LANSPREAD_TEST_STRICT=1: a skip is a failure)`);
  }
}

/** Skips the running test with `reason`, or fails it in strict mode. */
export function skipTest(ctx: TestContext, reason: string): never {
  if (STRICT) throw new Error(`${reason} (LANSPREAD_TEST_STRICT=1: a skip is a failure)`);
  ctx.skip(reason);
  throw new Error('unreachable: ctx.skip throws');
}
