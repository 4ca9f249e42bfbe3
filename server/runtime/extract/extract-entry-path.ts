// Which archive entry names may be written under the install folder. Pure.
// A name passes only if every one of its components is an ordinary file name,
// so joining the components under destDir can never leave destDir, whichever
// of '/' or '\' the platform (or the archive's author) treats as a separator.

export type UnsafeNameReason = 'empty' | 'control_character' | 'absolute' | 'drive_or_stream' | 'parent_reference';

export type EntryPathCheck = { ok: true; segments: string[] } | { ok: false; reason: UnsafeNameReason; detail: string };

const REASON_TEXT: Record<UnsafeNameReason, string> = {
  empty: 'has an empty name',
  control_character: 'has a control character or NUL in its name',
  absolute: 'has an absolute path',
  drive_or_stream: "has a drive letter or ':' in its name",
  parent_reference: "has a '..' component that would climb out of the install folder",
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Split an archive entry name into safe path components, or say why it is refused. */
export function checkEntryPath(name: string): EntryPathCheck {
  const refuse = (reason: UnsafeNameReason): EntryPathCheck => ({
    ok: false,
    reason,
    detail: REASON_TEXT[reason],
  });
  if (name.length === 0) return refuse('empty');
  if (CONTROL.test(name)) return refuse('control_character');
  if (name.startsWith('/') || name.startsWith('\\')) return refuse('absolute');
  // 'C:' drive prefixes and NTFS alternate data streams ('file:stream').
  if (name.includes(':')) return refuse('drive_or_stream');
  const segments: string[] = [];
  for (const part of name.split(/[/\\]/)) {
    if (part === '' || part === '.') continue;
    // Windows drops trailing dots and spaces, so '.. ' and '...' can act as '..'.
    if (/^[. ]+$/.test(part)) return refuse('parent_reference');
    segments.push(part);
  }
  if (segments.length === 0) return refuse('empty');
  return { ok: true, segments };
}
