// Settings changed through the API survive a restart (`<state dir>/settings.json`).
// Precedence at start: command-line flag > environment > saved settings > default.
import path from 'node:path';
import fs from 'node:fs/promises';
import type { SettingsPatch, StoredSettings } from '../../../shared/api.js';
import { InvalidSettingsError } from '../errors.js';
import { readJsonFile, writeFileAtomic } from '../fs-util.js';

export class SettingsStore {
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'settings.json');
  }

  /** What was saved by earlier PUT /api/settings calls (possibly nothing). */
  async loadSaved(): Promise<SettingsPatch> {
    try {
      const json = await readJsonFile(this.file);
      return typeof json === 'object' && json !== null ? (json as SettingsPatch) : {};
    } catch {
      return {};
    }
  }

  async save(settings: StoredSettings): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(settings, null, 2)}\n`);
  }
}

/** A game dir must already exist and be a directory (a typo must not create folders). */
export async function validateGameDir(dir: string): Promise<string> {
  if (!path.isAbsolute(dir)) throw new InvalidSettingsError(`game dir must be an absolute path, got "${dir}"`);
  let st;
  try {
    st = await fs.stat(dir);
  } catch {
    throw new InvalidSettingsError(`game dir ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new InvalidSettingsError(`game dir ${dir} is not a directory`);
  return path.resolve(dir);
}
