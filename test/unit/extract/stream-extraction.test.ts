// The streaming extraction (server/runtime/extract/rar-stream-*.ts): real RAR
// fixtures give exactly what the disk extractor gives, with each file's CRC32
// from its header; refusals happen before any record; a consumer that stops
// reading blocks the worker with at most the ring's capacity queued; abort()
// wakes a blocked worker, which then stops by itself.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { startStreamExtraction, type StreamExtraction } from '../../../server/runtime/extract/rar-stream-extraction.js';
import type { StreamRecord } from '../../../server/runtime/extract/rar-stream-protocol.js';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { ExtractError } from '../../../server/runtime/extract/unpacker.js';
import { rarFixture } from '../../helpers/fixtures.js';
import { tempDir, waitFor } from '../../helpers/temp-dir.js';

const archive = (name: string) => [{ path: rarFixture(name), label: name }];

/** Reads every record; returns the files (sha256, size, header CRC, computed CRC) and folders. */
async function drain(x: StreamExtraction) {
  const files = new Map<string, { sha256: string; size: number; crc32: string | null; actual: string }>();
  const dirs: string[] = [];
  let open: { path: string; crc32: string | null; hash: ReturnType<typeof createHash>; crc: number; size: number } | null = null;
  let end: Extract<StreamRecord, { kind: 'end' }> | null = null;
  let records = 0;
  for (let r = await x.next(); r !== null; r = await x.next()) {
    records++;
    if (r.kind === 'file') open = { path: r.path, crc32: r.crc32, hash: createHash('sha256'), crc: 0, size: 0 };
    else if (r.kind === 'data') {
      open!.hash.update(r.bytes);
      open!.crc = crc32(r.bytes, open!.crc);
      open!.size += r.bytes.length;
    } else if (r.kind === 'file-end') {
      files.set(open!.path, {
        sha256: open!.hash.digest('hex'),
        size: open!.size,
        crc32: open!.crc32,
        actual: (open!.crc >>> 0).toString(16).padStart(8, '0'),
      });
      open = null;
    } else if (r.kind === 'dir') dirs.push(r.path);
    else end = r;
  }
  return { files, dirs, end, records, error: await x.exited };
}

async function diskTree(dir: string, rel = ''): Promise<{ files: Map<string, string>; dirs: string[] }> {
  const files = new Map<string, string>();
  const dirs: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      dirs.push(p);
      const sub = await diskTree(dir, p);
      for (const [k, v] of sub.files) files.set(k, v);
      dirs.push(...sub.dirs);
    } else {
      files.set(
        p,
        createHash('sha256')
          .update(await fs.readFile(path.join(dir, p)))
          .digest('hex'),
      );
    }
  }
  return { files, dirs };
}

describe('streaming extraction', () => {
  it.each([
    'rar5_multiple_files.rar',
    'rar5_solid.rar',
    'rar5_win32.rar',
    'rar_windows.rar',
    'rar_binary_data.rar',
    'rar_filter.rar',
    'rar5_blake2.rar',
  ])('%s: the same files and bytes as the disk extractor, each with its header CRC', async (name) => {
    const dest = await tempDir();
    await new RarUnpacker({ checkFreeSpace: false }).extract([rarFixture(name)], dest);
    const disk = await diskTree(dest);
    const got = await drain(startStreamExtraction(archive(name)));
    expect(got.error).toBeNull();
    expect(new Map([...got.files].map(([p, f]) => [p, f.sha256]))).toEqual(disk.files);
    for (const d of got.dirs) expect(disk.dirs).toContain(d);
    const total = [...got.files.values()].reduce((n, f) => n + f.size, 0);
    expect(got.end).toEqual({ kind: 'end', files: got.files.size, dirs: got.dirs.length, bytes: total });
    for (const [p, f] of got.files) {
      if (name === 'rar5_blake2.rar')
        expect(f.crc32, p).toBeNull(); // BLAKE2 instead of a CRC32
      else expect(f.crc32, p).toBe(f.actual);
    }
  });

  it.each([
    ['rar5_symlink.rar', 'archive_unsafe_entry'],
    ['rar5_hardlink.rar', 'archive_unsafe_entry'],
    ['rar5_encrypted.rar', 'archive_encrypted'],
    ['rar4_encrypted.rar', 'archive_encrypted'],
    ['rar5_multiarchive.part01.rar', 'archive_volume_missing'],
    ['rar5_sfx.exe', 'archive_unsupported'],
  ])('%s is refused (%s) by the preflight, before any record', async (name, code) => {
    const x = startStreamExtraction(archive(name));
    await expect(x.plan).rejects.toMatchObject({ code });
    const got = await drain(x);
    expect(got.records).toBe(0);
    expect(got.error).toBeInstanceOf(ExtractError);
    expect(got.error?.code).toBe(code);
    // the message names the archive by its label, not the path the worker opened
    expect(got.error?.message).toContain(name);
  });

  it('a multi-volume set streams as one archive, opened through pinned paths, each split file with the CRC32 of its last part', async () => {
    // as the sender does: the worker reads /proc/self/fd links; the served names tell it the volumes
    const handles = await Promise.all(Array.from({ length: 8 }, (_, i) => fs.open(rarFixture(`rar5_multiarchive.part0${i + 1}.rar`), 'r')));
    try {
      const volumes = handles.map((h, i) => ({ path: `/proc/self/fd/${h.fd}`, label: `sub/alpha.part0${i + 1}.rar` }));
      const got = await drain(startStreamExtraction(volumes));
      expect(got.error).toBeNull();
      const bin = 'home/antek/temp/build/unrar5/libarchive/bin';
      // libarchive's test_read_format_rar5 multiarchive_extr_all asserts these CRC32s
      expect(Object.fromEntries([...got.files].map(([p, f]) => [p, f.actual]))).toEqual({
        [`${bin}/bsdcat_test`]: '35277473',
        [`${bin}/bsdtar_test`]: 'e59665f8',
      });
      for (const [p, f] of got.files) expect(f.crc32, p).toBe(f.actual);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('a multi-volume set with a volume missing is refused before any record, naming it', async () => {
    const volumes = [1, 2, 3, 5, 6, 7, 8].map((n) => ({
      path: rarFixture(`rar5_multiarchive.part0${n}.rar`),
      label: `alpha.part0${n}.rar`,
    }));
    const x = startStreamExtraction(volumes);
    await expect(x.plan).rejects.toMatchObject({ code: 'archive_volume_missing' });
    const got = await drain(x);
    expect(got.records).toBe(0);
    expect(got.error?.message).toContain('"alpha.part04.rar" is missing');
  });

  it('a consumer that stops reading blocks the worker with at most the ring queued; then everything arrives', async () => {
    const ringBytes = 256 * 1024;
    const x = startStreamExtraction(archive('rar_ppmd_lzss_conversion.rar'), { ringBytes });
    const plan = await x.plan;
    expect(plan).toEqual({ archives: 1, files: 1, dirs: 0, bytes: 241_647_978 });
    // it produces until the ring is full…
    const queued = await waitFor(() => (x.queuedBytes > ringBytes / 2 ? x.queuedBytes : undefined), 5_000, 'a ring over half full');
    expect(queued).toBeLessThanOrEqual(ringBytes);
    // …and then waits: the queue stops growing (a check of absence, so it needs an observation window)
    const full = await waitFor(
      async () => {
        const before = x.queuedBytes;
        await sleep(300);
        return x.queuedBytes === before ? before : undefined;
      },
      5_000,
      'the ring to stop filling',
    );
    expect(full).toBeLessThanOrEqual(ringBytes);
    expect(x.running).toBe(true);
    let bytes = 0;
    let maxQueued = 0;
    for (let r = await x.next(); r !== null; r = await x.next()) {
      maxQueued = Math.max(maxQueued, x.queuedBytes);
      if (r.kind === 'data') bytes += r.bytes.length;
    }
    expect(bytes).toBe(241_647_978);
    expect(maxQueued).toBeLessThanOrEqual(ringBytes);
    expect(await x.exited).toBeNull();
  });

  it('abort() wakes a blocked worker, which stops by itself (not terminated) with extract_aborted', async () => {
    const x = startStreamExtraction(archive('rar_ppmd_lzss_conversion.rar'), { ringBytes: 128 * 1024, abortGraceMs: 60_000 });
    await x.plan;
    for (let i = 0; i < 3; i++) await x.next();
    // the worker fills the ring, then blocks on it
    await waitFor(() => (x.queuedBytes > (128 * 1024) / 2 ? true : undefined), 5_000, 'a ring over half full');
    const t0 = performance.now();
    x.abort();
    const error = await x.exited;
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(error?.code).toBe('extract_aborted');
    expect(x.running).toBe(false);
    expect(await x.next()).toBeNull();
  });
});
