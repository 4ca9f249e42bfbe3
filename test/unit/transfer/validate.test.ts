import { describe, expect, it } from 'vitest';
import type { WireFile } from '../../../shared/wire.js';
import { validateFileLists } from '../../../server/runtime/transfer/validate.js';

const C = 64 * 1024;
const h = (c: string) => c.repeat(64);
const file = (p: string, size: number, hashes: string[]): WireFile => ({ path: p, size, is_dir: false, chunk_size: C, sha256: hashes });

describe('validateFileLists', () => {
  it('takes the majority size and hashes per file and drops the disagreeing peer for that file only', () => {
    const good = file('a.eti', 2 * C, [h('1'), h('2')]);
    const lists = new Map([
      ['p1', [good, file('version.ini', 9, [h('9')])]],
      ['p2', [good, file('version.ini', 9, [h('9')])]],
      ['p3', [file('a.eti', 2 * C, [h('1'), h('f')]), file('version.ini', 9, [h('9')])]],
    ]);
    const v = validateFileLists(lists);
    expect(v.files.map((f) => [f.path, f.peers])).toEqual([
      ['a.eti', ['p1', 'p2']],
      ['version.ini', ['p1', 'p2', 'p3']],
    ]);
    expect(v.files[0]?.sha256).toEqual([h('1'), h('2')]);
  });

  it('breaks ties the same way on every node', () => {
    const lists = new Map([
      ['pb', [file('a.eti', 10, [h('b')])]],
      ['pa', [file('a.eti', 10, [h('a')])]],
    ]);
    expect(validateFileLists(lists).files[0]).toMatchObject({ sha256: [h('a')], peers: ['pa'] });
  });

  it('rejects unsafe paths and malformed entries', () => {
    const lists = new Map([
      [
        'p1',
        [
          file('../escape.eti', 10, [h('1')]),
          file('/abs.eti', 10, [h('1')]),
          file('local/x', 10, [h('1')]),
          file('.local.backup/x', 10, [h('1')]),
          file('a\\b', 10, [h('1')]),
          file('ok.eti', 10, [h('1'), h('2')]), // two hashes for one chunk
          { path: 'nohash.eti', size: 10, is_dir: false },
          file('fine.eti', 10, [h('3')]),
          { path: 'sub', size: 0, is_dir: true },
        ],
      ],
    ]);
    const v = validateFileLists(lists);
    expect(v.files.map((f) => f.path)).toEqual(['fine.eti']);
    expect(v.dirs).toEqual(['sub']);
    expect(v.rejected.map((r) => r.path).sort()).toEqual([
      '../escape.eti',
      '.local.backup/x',
      '/abs.eti',
      'a\\b',
      'local/x',
      'nohash.eti',
      'ok.eti',
    ]);
  });
});
