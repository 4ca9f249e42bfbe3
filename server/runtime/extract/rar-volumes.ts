// Which files of a game root form one multi-volume RAR set, by name, the way
// unrar derives the next volume's name: `name.part1.rar`, `name.part2.rar` …
// (any width; `.eti` as well as `.rar`), or `name.rar`, `name.r00`, `name.r01`
// … `name.r99`, `name.s00` … (old numbering; `name.eti` continues as
// `name.e00`). Pure: it only reads names. Every archive belongs to exactly one
// set, the sets keep the order of their first volumes, and a gap in the
// numbers is reported by the name of the first volume that is not there.
import path from 'node:path';

export interface VolumeSet {
  /** the set's files in volume order, as given (paths or relative names) */
  volumes: string[];
  /** the name (same folder) of the first volume the numbering says is not there, or null */
  missing: string | null;
  /** the name (same folder) the volume after the last one would have */
  next: string;
}

const NEW_STYLE = /^(.*\.part)(\d+)(\.(?:rar|eti))$/i;
const PLAIN = /^(.*)\.(rar|eti)$/i;
const OLD_CONTINUATION = /^(.*)\.([a-z])(\d\d)$/i;

interface Member {
  file: string;
  /** 0 for the first volume */
  index: number;
}

interface Group {
  members: Member[];
  /** the name of the volume at `index`, in the same folder */
  nameAt: (index: number) => string;
}

/** The archives of a folder listing: `.eti`/`.rar` files, plus old-style continuations of one of them. */
export function archiveFiles(files: string[]): string[] {
  const plain = new Set(files.filter((f) => PLAIN.test(f)));
  return files.filter((f) => plain.has(f) || oldStyleFirst(f, plain) !== null);
}

/** Group archives into volume sets; a file that is no volume of anything is a set of one. */
export function groupVolumeSets(archives: string[]): VolumeSet[] {
  const plain = new Set(archives.filter((f) => PLAIN.test(f) && !NEW_STYLE.test(f)));
  const groups = new Map<string, Group>();
  const order: string[] = [];
  const add = (key: string, nameAt: Group['nameAt'], member: Member): void => {
    let group = groups.get(key);
    if (!group) {
      group = { members: [], nameAt };
      groups.set(key, group);
      order.push(key);
    }
    group.members.push(member);
  };
  for (const file of archives) {
    const base = baseName(file);
    const dir = file.slice(0, file.length - base.length);
    const inDir = (name: string): string => `${dir}${name}`;
    const fresh = NEW_STYLE.exec(base);
    if (fresh) {
      const [, stem, digits, ext] = fresh as unknown as [string, string, string, string];
      const width = digits.length;
      add(`new:${dir}${stem}|${ext}`, (i) => inDir(`${stem}${String(i + 1).padStart(width, '0')}${ext}`), {
        file,
        index: Number(digits) - 1,
      });
      continue;
    }
    const first = oldStyleFirst(file, plain);
    if (first !== null) {
      const firstBase = baseName(first);
      add(`old:${first}`, (i) => inDir(oldStyleName(firstBase, i)), { file, index: oldStyleIndex(firstBase, base) });
      continue;
    }
    const single = PLAIN.exec(base);
    if (single) add(`old:${file}`, (i) => inDir(oldStyleName(base, i)), { file, index: 0 });
    else add(`lone:${file}`, (i) => (i === 0 ? file : inDir(`${base}.${i}`)), { file, index: 0 });
  }
  const sets = order.map((key) => toSet(groups.get(key)!));
  return sets.sort((a, b) => compare(firstKey(a), firstKey(b)));
}

function toSet(group: Group): VolumeSet {
  const members = [...group.members].sort((a, b) => a.index - b.index);
  let missing: string | null = null;
  members.forEach((m, i) => {
    if (missing === null && m.index !== i) missing = group.nameAt(i);
  });
  const last = members[members.length - 1]!.index;
  return { volumes: members.map((m) => m.file), missing, next: group.nameAt(last + 1) };
}

/** Sort sets by the name their first volume has (or would have). */
function firstKey(set: VolumeSet): string {
  return set.volumes[0]!;
}

/** `name.rar` for `name.r00`, `name.s07` … when that first volume is among `plain`; else null. */
function oldStyleFirst(file: string, plain: Set<string>): string | null {
  const m = OLD_CONTINUATION.exec(file);
  if (!m) return null;
  const stem = m[1]!;
  for (const ext of ['rar', 'eti', 'RAR', 'ETI']) {
    const first = `${stem}.${ext}`;
    if (plain.has(first) && oldStyleIndex(baseName(first), baseName(file)) > 0) return first;
  }
  return null;
}

/** Volume index of `base` in the old-style set whose first volume is `firstBase` (0 for itself, -1 when not in it). */
function oldStyleIndex(firstBase: string, base: string): number {
  if (base === firstBase) return 0;
  const m = OLD_CONTINUATION.exec(base);
  const ext = PLAIN.exec(firstBase);
  if (!m || !ext) return -1;
  const letter = m[2]!.toLowerCase().charCodeAt(0) - ext[2]!.toLowerCase().charCodeAt(0);
  if (letter < 0) return -1;
  return letter * 100 + Number(m[3]) + 1;
}

/** unrar's old numbering: `name.rar`, then `name.r00` … `name.r99`, `name.s00` … */
function oldStyleName(firstBase: string, index: number): string {
  if (index === 0) return firstBase;
  const m = PLAIN.exec(firstBase)!;
  const k = index - 1;
  const letter = String.fromCharCode(m[2]!.charCodeAt(0) + Math.floor(k / 100));
  return `${m[1]}.${letter}${String(k % 100).padStart(2, '0')}`;
}

function baseName(file: string): string {
  const slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf(path.sep));
  return file.slice(slash + 1);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
