// One test per refusal category, through the real RarUnpacker: each archive is
// refused with its stable code, and (except for damage found while decoding)
// before a single file or folder is written into destDir.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RarUnpacker } from '../../../server/runtime/extract/rar-unpacker.js';
import { ExtractError, type ExtractErrorCode } from '../../../server/runtime/extract/unpacker.js';
import { buildRar5, rarFixture, type Rar5Entry } from '../../helpers/fixtures.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'lanspread-unpacker-refusals-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const unpacker = new RarUnpacker();
let counter = 0;

function archive(entries: Rar5Entry[], options?: { volume?: boolean }): string {
  const file = path.join(scratch, `crafted-${++counter}.rar`);
  writeFileSync(file, buildRar5(entries, options));
  return file;
}

function emptyDest(): string {
  return mkdtempSync(path.join(scratch, 'dest-'));
}

async function refusal(archives: string[], dest: string, password?: string): Promise<ExtractError> {
  const error = await unpacker.extract(archives, dest, password === undefined ? {} : { password }).then(
    () => null,
    (err: unknown) => err,
  );
  expect(error, 'extraction should have been refused').toBeInstanceOf(ExtractError);
  return error as ExtractError;
}

async function expectRefusedUpFront(archives: string[], code: ExtractErrorCode, password?: string): Promise<ExtractError> {
  const dest = emptyDest();
  const error = await refusal(archives, dest, password);
  expect(error.code).toBe(code);
  expect(readdirSync(dest), 'nothing may be written before a refusal').toEqual([]);
  return error;
}

const file = (name: string, data = 'payload'): Rar5Entry => ({ name, data });

describe('RarUnpacker refuses unsafe entries before writing anything', () => {
  it('accepts the crafted archive format itself (control case)', async () => {
    const dest = emptyDest();
    const result = await unpacker.extract([archive([file('dir/a.txt', 'hello'), { name: 'empty', directory: true }])], dest);
    expect(result).toEqual({ files: 1, bytes: 5 });
    expect(readFileSync(path.join(dest, 'dir', 'a.txt'), 'utf8')).toBe('hello');
    expect(readdirSync(path.join(dest, 'empty'))).toEqual([]);
  });

  it.each([
    ['a parent reference', '../evil.txt'],
    ['a nested parent reference', 'ok/../../evil.txt'],
    ['a backslash parent reference', '..\\evil.txt'],
    ['a Windows trailing-dot parent reference', '.. \\evil.txt'],
    ['an absolute path', '/tmp/evil.txt'],
    ['an absolute backslash path', '\\evil.txt'],
    ['a drive letter', 'C:\\evil.txt'],
    ['a drive-relative name', 'C:evil.txt'],
    ['a NUL in the name', 'good.txt\u0000../../evil'],
    ['a terminal escape in the name', 'evil\u001b[2J.txt'],
  ])('refuses %s', async (_what, name) => {
    // a good entry first: the refusal must still leave destDir empty
    const error = await expectRefusedUpFront([archive([file('first.txt'), file(name)])], 'archive_unsafe_entry');
    // eslint-disable-next-line no-control-regex
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it.each([
    ['a Unix symlink', { name: 'link', host: 'unix', attributes: 0o120777, redirect: { type: 1, target: '/etc/passwd' } }],
    ['a Unix symlink marked only by its mode', { name: 'link', host: 'unix', attributes: 0o120777, data: '/etc' }],
    ['a Windows symlink', { name: 'link', redirect: { type: 2, target: 'C:\\Windows' } }],
    ['a Windows reparse point marked only by attributes', { name: 'link', attributes: 0x420 }],
    ['a directory junction', { name: 'junction', directory: true, redirect: { type: 3, target: 'C:\\' } }],
    ['a hard link', { name: 'hard', redirect: { type: 4, target: 'first.txt' } }],
    ['a file copy reference', { name: 'copy', redirect: { type: 5, target: 'first.txt' } }],
  ] as [string, Rar5Entry][])('refuses %s', async (_what, entry) => {
    await expectRefusedUpFront([archive([file('first.txt'), entry])], 'archive_unsafe_entry');
  });

  it('refuses the real symlink and hardlink archives', async () => {
    await expectRefusedUpFront([rarFixture('rar5_symlink.rar')], 'archive_unsafe_entry');
    await expectRefusedUpFront([rarFixture('rar5_hardlink.rar')], 'archive_unsafe_entry');
    await expectRefusedUpFront([rarFixture('rar.rar')], 'archive_unsafe_entry');
  });

  it('refuses every archive of a game when a later one is unsafe (nothing from the first is written)', async () => {
    const good = archive([file('data/a.bin')]);
    const bad = archive([file('../escape.bin')]);
    await expectRefusedUpFront([good, bad], 'archive_unsafe_entry');
  });
});

describe('RarUnpacker refuses archives it cannot extract', () => {
  it('refuses a multi-volume set with a link in a later volume, and one part without the others', async () => {
    const parts = [1, 2, 3, 4].map((n) => rarFixture(`rar_multivolume.part000${n}.rar`));
    const error = await expectRefusedUpFront(parts, 'archive_unsafe_entry');
    expect(error.message).toContain('"testlink" is a symbolic link');
    await expectRefusedUpFront([rarFixture('rar5_multiarchive_solid.part01.rar')], 'archive_volume_missing');
  });

  it('refuses encrypted data and encrypted headers without a password', async () => {
    await expectRefusedUpFront([rarFixture('rar5_encrypted.rar')], 'archive_encrypted');
    await expectRefusedUpFront([rarFixture('rar5_encrypted_filenames.rar')], 'archive_encrypted');
    await expectRefusedUpFront([rarFixture('rar4_encrypted.rar')], 'archive_encrypted');
    await expectRefusedUpFront([archive([file('a.txt'), { ...file('b.txt'), encryptedFlag: true }])], 'archive_encrypted');
  });

  it('extracts an encrypted archive with its password', async () => {
    for (const name of ['rar5_solid_encrypted_filenames.rar', 'rar4_solid_encrypted.rar']) {
      const dest = emptyDest();
      const result = await unpacker.extract([rarFixture(name)], dest, { password: 'password' });
      expect(result.files).toBe(4);
      expect(readFileSync(path.join(dest, 'c.txt'), 'utf8')).toBe('This is from c.txt');
    }
  });

  it('reports a wrong password as such (RAR 5 and RAR 4)', async () => {
    for (const name of ['rar5_encrypted_filenames.rar', 'rar5_solid_encrypted.rar', 'rar4_solid_encrypted.rar']) {
      const error = await refusal([rarFixture(name)], emptyDest(), 'not-the-password');
      expect(error.code, name).toBe('archive_bad_password');
    }
  });

  it('refuses damaged archives', async () => {
    const truncated = path.join(scratch, 'truncated.rar');
    writeFileSync(truncated, readFileSync(rarFixture('rar_binary_data.rar')).subarray(0, 50_000));
    expect((await refusal([truncated], emptyDest())).code).toBe('archive_damaged');
    const flipped = Buffer.from(readFileSync(rarFixture('rar5_stored.rar')));
    flipped[0x40] = flipped[0x40]! ^ 0xff; // inside a header: its CRC no longer matches
    const flippedFile = path.join(scratch, 'flipped.rar');
    writeFileSync(flippedFile, flipped);
    await expectRefusedUpFront([flippedFile], 'archive_damaged');
    expect((await refusal([rarFixture('rar_unbound_staticdata.rar')], emptyDest())).code).toBe('archive_damaged');
  });

  it('refuses a stored file whose bytes do not match its CRC32 (the copy that bypasses unrar checks it too)', async () => {
    const good = buildRar5([file('a.bin', 'x'.repeat(4096))]);
    const bad = Buffer.from(good);
    const at = bad.indexOf(Buffer.from('x'.repeat(64)));
    bad[at + 100] = 0x79; // one byte of the content: headers still check out
    const badFile = path.join(scratch, 'bad-content.rar');
    writeFileSync(badFile, bad);
    const error = await refusal([badFile], emptyDest());
    expect(error.code).toBe('archive_damaged');
    expect(error.message).toContain('"a.bin" does not match its CRC32');
  });

  it('refuses self-extracting executables and files that are not RAR', async () => {
    await expectRefusedUpFront([rarFixture('rar_sfx.exe')], 'archive_unsupported');
    const text = path.join(scratch, 'not-a-rar.eti');
    writeFileSync(text, 'just some text, long enough to be read');
    await expectRefusedUpFront([text], 'archive_unsupported');
  });

  it('refuses an entry whose decoder window is over the limit (before unrar allocates it)', async () => {
    await expectRefusedUpFront([archive([file('a.txt'), { ...file('huge-window.bin'), dictionaryLog: 15 }])], 'archive_unsupported');
    const strict = new RarUnpacker({ maxDictionaryBytes: 2 ** 20 });
    const dest = emptyDest();
    const error = await strict.extract([archive([{ ...file('b.bin'), dictionaryLog: 4 }])], dest).catch((e: unknown) => e);
    expect((error as ExtractError).code).toBe('archive_unsupported');
    expect(readdirSync(dest)).toEqual([]);
    expect(await strict.extract([archive([{ ...file('c.bin'), dictionaryLog: 3 }])], emptyDest())).toEqual({ files: 1, bytes: 7 });
  });

  it('reports a missing archive as unreadable', async () => {
    await expectRefusedUpFront([path.join(scratch, 'missing.eti')], 'archive_unreadable');
  });

  it('refuses a destination that is not an empty folder', async () => {
    const dest = emptyDest();
    mkdirSync(path.join(dest, 'already-here'));
    const error = await refusal([rarFixture('rar5_stored.rar')], dest);
    expect(error.code).toBe('extract_dest_invalid');
    expect(readdirSync(dest)).toEqual(['already-here']);
    expect((await refusal([rarFixture('rar5_stored.rar')], path.join(scratch, 'nope'))).code).toBe('extract_dest_invalid');
  });
});
