// The pure name rules the unpacker applies to every entry (from both readers),
// and the printable form used for names in messages.
import { describe, expect, it } from 'vitest';
import { checkEntryPath, type UnsafeNameReason } from '../../../server/runtime/extract/extract-entry-path.js';
import { ExtractError, printable } from '../../../server/runtime/extract/unpacker.js';

describe('checkEntryPath', () => {
  it.each([
    ['game.exe', ['game.exe']],
    ['data/levels/1.pak', ['data', 'levels', '1.pak']],
    ['data\\levels\\1.pak', ['data', 'levels', '1.pak']],
    ['./data//x.bin', ['data', 'x.bin']],
    ['..hidden/file..name', ['..hidden', 'file..name']],
    ['表だよ/漢字.txt', ['表だよ', '漢字.txt']],
  ])('accepts %j', (name, segments) => {
    expect(checkEntryPath(name)).toEqual({ ok: true, segments });
  });

  it.each<[string, UnsafeNameReason]>([
    ['', 'empty'],
    ['./', 'empty'],
    ['../x', 'parent_reference'],
    ['a/../../x', 'parent_reference'],
    ['a\\..\\x', 'parent_reference'],
    ['.. /x', 'parent_reference'],
    ['.../x', 'parent_reference'],
    ['/etc/passwd', 'absolute'],
    ['\\\\server\\share\\x', 'absolute'],
    ['C:\\Windows\\x', 'drive_or_stream'],
    ['c:x', 'drive_or_stream'],
    ['file.txt:stream', 'drive_or_stream'],
    ['a\u0000b', 'control_character'],
    ['a\nb', 'control_character'],
    ['a\u001b]0;title\u0007', 'control_character'],
    ['a\u007fb', 'control_character'],
  ])('refuses %j (%s)', (name, reason) => {
    const result = checkEntryPath(name);
    expect(result.ok).toBe(false);
    expect(result.ok ? null : result.reason).toBe(reason);
  });
});

describe('printable', () => {
  it('replaces control characters, escapes and bidi overrides, and bounds the length', () => {
    expect(printable('a\u001b[31mred\u0007\nb\u202eevil')).toBe('a?[31mred??b?evil');
    expect(printable('\u009b2J')).toBe('?2J');
    expect(printable('x'.repeat(500)).length).toBe(200);
  });

  it('is applied to ExtractError messages and fields', () => {
    const err = new ExtractError('archive_unsafe_entry', 'entry "a\u001b[2Jb"', { entry: 'a\u001b[2Jb', archive: 'g\n.eti' });
    expect(err.message).toBe('entry "a?[2Jb"');
    expect(err.entry).toBe('a?[2Jb');
    expect(err.archive).toBe('g?.eti');
    expect(err.code).toBe('archive_unsafe_entry');
    expect(err).toBeInstanceOf(Error);
  });
});
