// Manifests, their chunk numbering, have-sets, and what a download announces
// (server/runtime/swarm/): pure, no network.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../server/runtime/logger.js';
import { Bitfield } from '../../../server/runtime/swarm/bitfield.js';
import { ManifestLayout, manifestId, type ManifestFile } from '../../../server/runtime/swarm/manifest.js';
import { Swarm } from '../../../server/runtime/swarm/swarm.js';

const h = (c: string) => c.repeat(64);
const files: ManifestFile[] = [
  { path: 'a.eti', size: 250, chunkSize: 100, sha256: [h('1'), h('2'), h('3')] },
  { path: 'version.ini', size: 9, chunkSize: 100, sha256: [h('4')] },
];

describe('manifests', () => {
  it('the id depends on every path, size, chunk size and hash, not on the order the list came in', () => {
    const id = manifestId({ dirs: ['maps'], files });
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(manifestId({ dirs: ['maps'], files: [...files].reverse() })).toBe(id);
    const variants: ManifestFile[][] = [
      [{ ...files[0]!, size: 251 }, files[1]!],
      [{ ...files[0]!, chunkSize: 128 }, files[1]!],
      [{ ...files[0]!, sha256: [h('1'), h('2'), h('9')] }, files[1]!],
      [{ ...files[0]!, path: 'b.eti' }, files[1]!],
      [files[0]!],
    ];
    for (const v of variants) expect(manifestId({ dirs: ['maps'], files: v })).not.toBe(id);
    expect(manifestId({ dirs: [], files })).not.toBe(id);
  });

  it('numbers chunks across files, and finds exactly one chunk by its range', () => {
    const layout = new ManifestLayout(files);
    expect([layout.chunks, layout.bytes]).toEqual([4, 259]);
    expect(layout.find('a.eti', 200, 50)).toBe(2);
    expect(layout.find('version.ini', 0, 9)).toBe(3);
    expect(layout.find('a.eti', 100, 50)).toBeNull(); // not a whole chunk
    expect(layout.find('a.eti', 50, 100)).toBeNull(); // not on a chunk boundary
    expect(layout.find('a.eti', 300, 100)).toBeNull(); // past the end
    expect(layout.find('b.eti', 0, 100)).toBeNull();
    const have = new Bitfield(4);
    have.set(2);
    have.set(3);
    expect(layout.bytesOf(have)).toBe(59);
  });

  it('a have-set from a peer must describe exactly the manifest’s chunks', () => {
    const b = new Bitfield(10);
    b.set(0);
    b.set(9);
    expect(Bitfield.fromBase64(b.toBase64(), 10)!.count).toBe(2);
    expect(Bitfield.fromBase64(b.toBase64(), 17)).toBeNull(); // another length
    const spare = Buffer.from(b.bytes);
    spare[1]! |= 0x01; // a bit past chunk 9
    expect(Bitfield.fromBase64(spare.toString('base64'), 10)).toBeNull();
  });

  it('a download announces only verified chunks, never version.ini before the commit, and everything after', () => {
    const swarm = new Swarm({
      enabled: true,
      logger: silentLogger,
      connections: () => [],
      ownCopy: () => null,
      openServed: () => Promise.reject(new Error('unused')),
      openInRoot: () => Promise.reject(new Error('unused')),
    });
    const kept = new Bitfield(4);
    kept.set(3); // version.ini found on disk: still not announced
    kept.set(0);
    const session = swarm.begin('alpha', { dirs: [], files }, '/nowhere', kept);
    const announced = () => swarm['local'].get('alpha')!.have;
    expect([0, 1, 2, 3].map((i) => announced().has(i))).toEqual([true, false, false, false]);
    session.verified(1);
    session.verified(3);
    expect([0, 1, 2, 3].map((i) => announced().has(i))).toEqual([true, true, false, false]);
    session.finish();
    expect(announced().complete).toBe(true);
    session.withdraw();
    expect(swarm['local'].has('alpha')).toBe(false);
    swarm.stop();
  });
});
