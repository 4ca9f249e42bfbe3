// How the RarUnpacker behaves as a part of a running peer: it never blocks the
// event loop, keeps memory bounded on a 240 MB expansion, reports progress,
// stops when aborted, reports a full disk, and turns a dying worker or a
// library bug into an ExtractError instead of a crash.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UnrarError } from 'node-unrar-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromLibraryError } from '../../../server/runtime/extract/rar-library.js';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { ExtractError, type ExtractProgress } from '../../../server/runtime/extract/unpacker.js';
import { buildRar5, rarFixture } from '../../helpers/fixtures.js';

const BIG = 'rar_ppmd_lzss_conversion.rar';
const BIG_BYTES = 241_647_978;
const BIG_FILE = 'ppmd_lzss_conversion_test.txt';

const scratch = mkdtempSync(path.join(tmpdir(), 'lanspread-unpacker-runtime-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const unpacker = new RarUnpacker();

function emptyDest(): string {
  return mkdtempSync(path.join(scratch, 'dest-'));
}

async function failure(promise: Promise<unknown>): Promise<ExtractError> {
  const error = await promise.then(
    () => null,
    (err: unknown) => err,
  );
  expect(error, 'extraction should have failed').toBeInstanceOf(ExtractError);
  return error as ExtractError;
}

describe('RarUnpacker at runtime', () => {
  // The first job of a process run from sources transpiles the worker (on the
  // main thread, a test-only cost); measure steady state.
  beforeAll(async () => {
    await unpacker.extract([rarFixture('rar5_stored.rar')], emptyDest());
  });

  it('keeps the event loop responsive during a 240 MB extraction', async ({ annotate }) => {
    const dest = emptyDest();
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    const started = performance.now();
    try {
      await unpacker.extract([rarFixture(BIG)], dest);
      // a block that ends just before this line never lets the timer report it
      maxGap = Math.max(maxGap, performance.now() - last);
    } finally {
      clearInterval(timer);
      rmSync(dest, { recursive: true, force: true });
    }
    const took = performance.now() - started;
    await annotate(`extraction ${took.toFixed(0)} ms, longest timer gap ${maxGap.toFixed(0)} ms`);
    // the extraction takes longer than the bound, so blocking would show
    expect(took).toBeGreaterThan(300);
    expect(maxGap).toBeLessThan(250);
  });

  it('keeps memory bounded while expanding 240 MB (peak RSS growth)', async ({ annotate }) => {
    const dest = emptyDest();
    const base = process.memoryUsage.rss();
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    try {
      await unpacker.extract([rarFixture(BIG)], dest, {
        onProgress: () => {
          peak = Math.max(peak, process.memoryUsage.rss());
        },
      });
    } finally {
      clearInterval(timer);
      rmSync(dest, { recursive: true, force: true });
    }
    const growthMb = (peak - base) / 2 ** 20;
    await annotate(`process RSS ${(base / 2 ** 20).toFixed(0)} MB before, peak growth ${growthMb.toFixed(1)} MB`);
    // holding the 230 MiB output (or a copy per chunk that is never freed) would break this
    expect(growthMb).toBeLessThan(100);
  });

  it('reports progress: monotonic, against the declared total, ending at the total', async () => {
    const dest = emptyDest();
    const events: ExtractProgress[] = [];
    const started = performance.now();
    try {
      const result = await unpacker.extract([rarFixture(BIG)], dest, { onProgress: (p) => events.push(p) });
      expect(result).toEqual({ files: 1, bytes: BIG_BYTES });
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
    const took = performance.now() - started;
    expect(events.length).toBeGreaterThanOrEqual(3);
    // rate-limited to one per 100 ms (plus the first and the last), not one per write
    expect(events.length).toBeLessThanOrEqual(Math.floor(took / 100) + 2);
    expect(events.every((p) => p.bytesTotal === BIG_BYTES)).toBe(true);
    for (let i = 1; i < events.length; i++) expect(events[i]!.bytesDone).toBeGreaterThanOrEqual(events[i - 1]!.bytesDone);
    expect(events[0]!.bytesDone).toBe(0);
    expect(events.some((p) => p.bytesDone > 0 && p.bytesDone < BIG_BYTES && p.entry === BIG_FILE)).toBe(true);
    expect(events.at(-1)!.bytesDone).toBe(BIG_BYTES);
  });

  it('stops writing as soon as it is aborted', async () => {
    const dest = emptyDest();
    const controller = new AbortController();
    const error = await failure(
      unpacker.extract([rarFixture(BIG)], dest, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytesDone > 0) controller.abort();
        },
      }),
    );
    expect(error.code).toBe('extract_aborted');
    // the promise settles after the worker is gone: nothing grows afterwards
    const size = statSync(path.join(dest, BIG_FILE)).size;
    expect(size).toBeLessThan(BIG_BYTES);
    await new Promise((r) => setTimeout(r, 300));
    expect(statSync(path.join(dest, BIG_FILE)).size).toBe(size);
  });

  it('does not start when the signal is already aborted', async () => {
    const dest = emptyDest();
    const error = await failure(unpacker.extract([rarFixture(BIG)], dest, { signal: AbortSignal.abort() }));
    expect(error.code).toBe('extract_aborted');
    expect(readdirSync(dest)).toEqual([]);
  });

  it('extracts the archives of one game in order into the same folder', async () => {
    const first = path.join(scratch, 'first.rar');
    const second = path.join(scratch, 'second.rar');
    writeFileSync(
      first,
      buildRar5([
        { name: 'shared/same.txt', data: 'first' },
        { name: 'a-only.txt', data: 'aaa' },
      ]),
    );
    writeFileSync(
      second,
      buildRar5([
        { name: 'shared/same.txt', data: 'second' },
        { name: 'b-only.txt', data: 'b' },
      ]),
    );
    const dest = emptyDest();
    const events: ExtractProgress[] = [];
    const result = await unpacker.extract([first, second, rarFixture('rar5_stored.rar')], dest, {
      onProgress: (p) => events.push(p),
    });
    expect(result).toEqual({ files: 4, bytes: 6 + 3 + 1 + 29 });
    expect(readFileSync(path.join(dest, 'shared', 'same.txt'), 'utf8')).toBe('second');
    expect(readdirSync(dest).sort()).toEqual(['a-only.txt', 'b-only.txt', 'helloworld.txt', 'shared']);
    expect(events.at(-1)).toEqual({ bytesDone: 5 + 3 + 6 + 1 + 29, bytesTotal: 5 + 3 + 6 + 1 + 29 });
  });

  it('turns a dying worker into an ExtractError, and the process carries on', async () => {
    // 4 MiB: enough for the worker's isolate to start (with 1 MiB, Node 24 aborts the whole process while
    // creating it), too little to extract anything
    const starved = new RarUnpacker({ workerHeapMb: 4 });
    const error = await failure(starved.extract([rarFixture('rar5_stored.rar')], emptyDest()));
    expect(error.code).toBe('extract_failed');
    const dest = emptyDest();
    expect(await unpacker.extract([rarFixture('rar5_stored.rar')], dest)).toEqual({ files: 1, bytes: 29 });
  });

  it('turns a throwing progress callback into an ExtractError', async () => {
    const error = await failure(
      unpacker.extract([rarFixture('rar_binary_data.rar')], emptyDest(), {
        onProgress: () => {
          throw new Error('listener bug');
        },
      }),
    );
    expect(error.code).toBe('extract_failed');
  });

  it('maps library failures, including its TypeErrors, to stable codes', () => {
    const ctx = { archive: 'game.eti', triedPassword: false };
    const typeError = new TypeError("Cannot read properties of undefined (reading 'file')");
    expect(fromLibraryError(typeError, ctx).code).toBe('extract_failed');
    expect(fromLibraryError(new UnrarError('ERAR_MISSING_PASSWORD', 'x'), ctx).code).toBe('archive_encrypted');
    expect(fromLibraryError(new UnrarError('ERAR_BAD_PASSWORD', 'x'), ctx).code).toBe('archive_bad_password');
    expect(fromLibraryError(new UnrarError('ERAR_BAD_DATA', 'x'), ctx).code).toBe('archive_damaged');
    expect(fromLibraryError(new UnrarError('ERAR_BAD_DATA', 'x'), { ...ctx, triedPassword: true }).code).toBe('archive_bad_password');
    expect(fromLibraryError(new UnrarError('ERAR_EREAD', 'x'), ctx).code).toBe('archive_damaged');
    expect(fromLibraryError(new UnrarError('ERAR_UNKNOWN_FORMAT', 'x'), ctx).code).toBe('archive_unsupported');
    const escaped = fromLibraryError(new UnrarError('ERAR_BAD_DATA', 'x', 'evil\u001b[2J'), ctx);
    expect(escaped.message).toContain('evil?[2J');
  });
});

describe('RarUnpacker on a full disk', () => {
  // A 2 MiB tmpfs; the 20 MB expansion cannot fit.
  function withSmallDisk(): { dir: string; release: () => void } | null {
    const dir = path.join(scratch, 'small-disk');
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    } catch {
      return null;
    }
    return { dir, release: () => execFileSync('umount', [dir], { stdio: 'pipe' }) };
  }

  it('refuses up front when the declared sizes exceed the free space, and reports ENOSPC', async ({ skip }) => {
    const disk = withSmallDisk();
    if (!disk) {
      skip('cannot mount a small tmpfs here (needs root and mount permission)');
      return;
    }
    try {
      const archive = rarFixture('rar_multi_lzss_blocks.rar');
      const early = mkdtempSync(path.join(disk.dir, 'a-'));
      const error = await failure(unpacker.extract([archive], early));
      expect(error.code).toBe('extract_no_space');
      expect(readdirSync(early)).toEqual([]);

      // without the up-front check the write itself hits ENOSPC
      const late = mkdtempSync(path.join(disk.dir, 'b-'));
      const unchecked = new RarUnpacker({ checkFreeSpace: false });
      const writeError = await failure(unchecked.extract([archive], late));
      expect(writeError.code).toBe('extract_no_space');
    } finally {
      disk.release();
    }
  });
});
