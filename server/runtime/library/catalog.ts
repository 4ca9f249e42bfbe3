// The catalog decides which games exist for this node: ids outside it are never
// scanned, announced, served or shown. A malformed catalog is refused as a whole,
// with a message naming the entry and the field, so a typo cannot hide a game.
import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { GAME_ID_PATTERN } from '../../../shared/game-id.js';
import { LanspreadError } from '../errors.js';
import { ErrorCode } from '../../../shared/error-codes.js';

export const CatalogEntrySchema = Type.Object({
  id: Type.String({ pattern: GAME_ID_PATTERN }),
  name: Type.String({ minLength: 1 }),
  description: Type.String(),
  size: Type.Integer({ minimum: 0 }),
  eti_version: Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s]+$' }),
  genre: Type.Optional(Type.String()),
  max_players: Type.Optional(Type.Integer({ minimum: 1 })),
  thumbnail: Type.Optional(Type.String()),
});
export type CatalogEntry = Static<typeof CatalogEntrySchema>;

/** Refused catalog file: unreadable, not JSON, or an entry that breaks the schema. */
export class CatalogError extends LanspreadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidCatalog, message, options);
  }
}

export class Catalog {
  private readonly byId: ReadonlyMap<string, CatalogEntry>;

  constructor(readonly entries: readonly CatalogEntry[]) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
  }

  get(id: string): CatalogEntry | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get ids(): string[] {
    return this.entries.map((e) => e.id);
  }
}

export const DEFAULT_CATALOG_FILE = fileURLToPath(new URL('./default-catalog.json', import.meta.url));

/** Validate parsed JSON as a catalog; `source` names the file in error messages. */
export function parseCatalog(json: unknown, source: string): Catalog {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { games?: unknown }).games)) {
    throw new CatalogError(`${source}: expected an object {"games": [...]}`);
  }
  const games = (json as { games: unknown[] }).games;
  const seen = new Set<string>();
  games.forEach((entry, index) => {
    const label = describeEntry(entry, index);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new CatalogError(`${source}: ${label} must be an object`);
    }
    const first = Value.Errors(CatalogEntrySchema, entry).First();
    if (first) {
      const field = first.path.replace(/^\//, '').replace(/\//g, '.') || '(entry)';
      throw new CatalogError(`${source}: ${label}, field "${field}": ${first.message}`);
    }
    const id = (entry as CatalogEntry).id;
    if (seen.has(id)) throw new CatalogError(`${source}: ${label}: duplicate id "${id}"`);
    seen.add(id);
  });
  return new Catalog(games as CatalogEntry[]);
}

function describeEntry(entry: unknown, index: number): string {
  const id = typeof entry === 'object' && entry !== null ? (entry as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? `entry ${index} ("${id.slice(0, 64)}")` : `entry ${index}`;
}

export async function loadCatalog(file: string = DEFAULT_CATALOG_FILE): Promise<Catalog> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CatalogError(`cannot read catalog ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CatalogError(`${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return parseCatalog(json, file);
}
