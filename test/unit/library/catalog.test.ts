import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogError, loadCatalog, parseCatalog } from '../../../server/runtime/library/catalog.js';
import { tempDir } from '../../helpers/temp-dir.js';

const good = { id: 'alpha', name: 'Alpha', description: 'd', size: 10, eti_version: '20240101' };

describe('catalog', () => {
  it('ships a default catalog of real-looking games', async () => {
    const catalog = await loadCatalog();
    expect(catalog.entries.length).toBeGreaterThanOrEqual(12);
    for (const e of catalog.entries) {
      expect(e.name.length).toBeGreaterThan(0);
      expect(e.size).toBeGreaterThan(0);
      expect(e.genre).toBeTruthy();
      expect(e.max_players).toBeGreaterThan(0);
    }
  });

  it('names the entry and the field of a malformed entry', () => {
    const bad = { games: [good, { ...good, id: 'bravo', size: -3 }] };
    expect(() => parseCatalog(bad, 'games.json')).toThrow(/games\.json: entry 1 \("bravo"\), field "size"/);
    expect(() => parseCatalog({ games: [{ ...good, id: 'Not Valid' }] }, 'c.json')).toThrow(/entry 0 .*field "id"/);
    expect(() => parseCatalog({ games: [{ ...good, eti_version: undefined }] }, 'c.json')).toThrow(/field "eti_version"/);
    expect(() => parseCatalog({ games: [good, good] }, 'c.json')).toThrow(/entry 1 .*duplicate id "alpha"/);
    expect(() => parseCatalog({ games: [good, 'x'] }, 'c.json')).toThrow(/entry 1 must be an object/);
    expect(() => parseCatalog([good], 'c.json')).toThrow(CatalogError);
  });

  it('replaces the default with a given file, and refuses one that is not JSON', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'catalog.json');
    await fs.writeFile(file, JSON.stringify({ games: [good] }));
    expect((await loadCatalog(file)).ids).toEqual(['alpha']);
    await fs.writeFile(file, '{"games": [');
    await expect(loadCatalog(file)).rejects.toThrow(/not valid JSON/);
    await expect(loadCatalog(path.join(dir, 'missing.json'))).rejects.toThrow(/cannot read catalog/);
  });
});
