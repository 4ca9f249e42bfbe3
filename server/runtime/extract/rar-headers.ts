// Reads the block headers of a RAR 4 or RAR 5 archive (never its compressed
// data) so the unpacker can refuse an archive before writing a byte: volume
// sets, encryption, links, and every entry's raw name, size and CRC. It is
// independent of the decompression library on purpose: the library hides the
// link records, and a second reader is a check on the first. Pure apart from
// the ByteSource it is given; every length it reads is bounded by the file.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { decodeRar4UnicodeName } from './rar-unicode-name.js';

/** Random access to the archive's bytes; `read` returns fewer bytes only at the end. */
export interface ByteSource {
  readonly size: number;
  read(position: number, length: number): Uint8Array;
}

export type LinkKind = 'symlink' | 'hardlink' | 'junction' | 'file_copy';

export interface ScannedEntry {
  /** the name as stored, separators untouched */
  name: string;
  directory: boolean;
  /** null when the header says the size is unknown */
  unpackedSize: number | null;
  /** CRC32 of the content, when the header carries one */
  crc32: number | null;
  encrypted: boolean;
  link: LinkKind | null;
  /** the sliding-window size the decoder must allocate for it, in bytes */
  dictionaryBytes: number;
  /** this header continues a file from the previous volume */
  splitBefore: boolean;
  /** the file continues in the next volume */
  splitAfter: boolean;
  /** stored without compression (method 0): its data area holds the content as is */
  stored: boolean;
  /** where its data area starts in this volume, and its length there */
  dataOffset: number;
  packedSize: number;
}

export interface ArchiveScan {
  format: 'rar4' | 'rar5';
  /** one volume of a multi-volume set (main header flag, split entries, or the end header) */
  volume: boolean;
  /** RAR 5: the main header numbers it as a later volume, so it cannot start a set */
  laterVolume: boolean;
  /** the set continues in another volume (the end header, or a file split after this one) */
  moreVolumes: boolean;
  /** a solid archive: an entry's data depends on the entries before it */
  solid: boolean;
  /** headers are encrypted: `entries` stops where encryption starts */
  headersEncrypted: boolean;
  entries: ScannedEntry[];
}

export type RarScanErrorCode = 'not_rar' | 'sfx' | 'damaged';

/** The bytes are not a RAR archive this scanner accepts, or its headers are broken. */
export class RarScanError extends Error {
  override readonly name = 'RarScanError';
  constructor(
    readonly code: RarScanErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const RAR4_SIGNATURE = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00];
const RAR5_SIGNATURE = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00];
/** RAR 5 caps a header at 2 MB; larger is a damaged or hostile archive. */
const RAR5_MAX_HEADER = 2 * 1024 * 1024;
const S_IFMT = 0xf000;
const S_IFLNK = 0xa000;
const WIN_ATTR_REPARSE_POINT = 0x400;

export function scanRarArchive(source: ByteSource): ArchiveScan {
  const head = source.read(0, 8);
  if (startsWith(head, RAR5_SIGNATURE)) return scanRar5(source);
  if (startsWith(head, RAR4_SIGNATURE)) return scanRar4(source);
  if (head[0] === 0x4d && head[1] === 0x5a) {
    throw new RarScanError('sfx', 'self-extracting (.exe) archives are not supported');
  }
  throw new RarScanError('not_rar', 'not a RAR archive (no RAR signature at the start)');
}

/** A ByteSource over a file, read synchronously (the caller runs in a worker). */
export function openFileSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    size,
    read(position, length) {
      const want = Math.max(0, Math.min(length, size - position));
      const buf = Buffer.alloc(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, position + got);
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got);
    },
    close() {
      closeSync(fd);
    },
  };
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

function damaged(what: string): RarScanError {
  return new RarScanError('damaged', `damaged archive: ${what}`);
}

/** Reads exactly `length` bytes or reports a truncated archive. */
function readExact(source: ByteSource, position: number, length: number, what: string): Uint8Array {
  const bytes = source.read(position, length);
  if (bytes.length !== length) throw damaged(`${what} is truncated`);
  return bytes;
}

// ---------------------------------------------------------------- RAR 5

class Cursor {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** A RAR 5 variable-length integer: 7 bits a byte, low bits first. */
  vint(): number {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.bytes.length) throw damaged('header field runs past the header');
      const byte = this.bytes[this.pos++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged('header value out of range');
        return Number(value);
      }
    }
    throw damaged('variable-length integer too long');
  }

  u32(): number {
    const b = this.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  /** Like unrar, a field missing from the end of a header reads as 0. */
  vintOrZero(): number {
    return this.remaining > 0 ? this.vint() : 0;
  }

  take(n: number): Uint8Array {
    if (n > this.remaining) throw damaged('header field runs past the header');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const RAR5 = {
  headMain: 1,
  headFile: 2,
  headService: 3,
  headCrypt: 4,
  headEnd: 5,
  hflExtra: 0x0001,
  hflData: 0x0002,
  hflSplitBefore: 0x0008,
  hflSplitAfter: 0x0010,
  mainVolume: 0x0001,
  mainVolumeNumber: 0x0002,
  mainSolid: 0x0004,
  endNotLastVolume: 0x0001,
  fileDirectory: 0x0001,
  fileTime: 0x0002,
  fileCrc: 0x0004,
  fileUnknownSize: 0x0008,
  extraCrypt: 0x01,
  extraRedir: 0x05,
  hostUnix: 1,
} as const;

const REDIR_KIND: Record<number, LinkKind> = {
  1: 'symlink',
  2: 'symlink',
  3: 'junction',
  4: 'hardlink',
  5: 'file_copy',
};

/** What a scan starts from, before the main header says otherwise. */
function emptyScan(format: ArchiveScan['format']): ArchiveScan {
  return { format, volume: false, laterVolume: false, moreVolumes: false, solid: false, headersEncrypted: false, entries: [] };
}

function scanRar5(source: ByteSource): ArchiveScan {
  const scan = emptyScan('rar5');
  let pos = RAR5_SIGNATURE.length;
  while (pos < source.size) {
    // CRC32 (4 bytes) then the header size as a vint of at most 3 bytes (2 MB).
    const prefix = source.read(pos, 7);
    if (prefix.length < 5) throw damaged('header is truncated');
    const sizeCursor = new Cursor(prefix.subarray(4));
    const headerSize = sizeCursor.vint();
    const sizeLen = sizeCursor.pos;
    if (headerSize === 0 || headerSize > RAR5_MAX_HEADER) throw damaged('header size out of range');
    const block = readExact(source, pos + 4, sizeLen + headerSize, 'header');
    const storedCrc = new Cursor(prefix).u32();
    if (crc32(block) !== storedCrc) throw damaged('header checksum mismatch');

    const c = new Cursor(block.subarray(sizeLen));
    const type = c.vint();
    if (pos === RAR5_SIGNATURE.length && type !== RAR5.headMain && type !== RAR5.headCrypt) {
      throw damaged('no main archive header'); // unrar stops here too
    }
    const flags = c.vint();
    const extraSize = flags & RAR5.hflExtra ? c.vint() : 0;
    const dataSize = flags & RAR5.hflData ? c.vint() : 0;
    if (extraSize > headerSize) throw damaged('extra area larger than its header');
    const extraStart = headerSize - extraSize;
    const split = (flags & (RAR5.hflSplitBefore | RAR5.hflSplitAfter)) !== 0;

    if (type === RAR5.headMain) {
      const archiveFlags = c.vintOrZero();
      if (archiveFlags & RAR5.mainVolume) scan.volume = true;
      if (archiveFlags & RAR5.mainSolid) scan.solid = true;
      if (archiveFlags & RAR5.mainVolumeNumber && c.vintOrZero() > 0) scan.laterVolume = true;
    } else if (type === RAR5.headCrypt) {
      return { ...scan, headersEncrypted: true };
    } else if (type === RAR5.headFile) {
      const entry = readRar5File(c, extraStart, flags, { dataOffset: pos + 4 + sizeLen + headerSize, packedSize: dataSize });
      scan.entries.push(entry);
      if (split) scan.volume = true;
      scan.moreVolumes = entry.splitAfter;
    } else if (type === RAR5.headService) {
      if (split) scan.volume = true;
    } else if (type === RAR5.headEnd) {
      if ((c.vintOrZero() & RAR5.endNotLastVolume) !== 0) scan.volume = scan.moreVolumes = true;
      return scan;
    }
    const next = pos + 4 + sizeLen + headerSize + dataSize;
    if (next > source.size) throw damaged('data area runs past the end of the file');
    pos = next;
  }
  return scan;
}

function readRar5File(c: Cursor, extraStart: number, headerFlags: number, data: { dataOffset: number; packedSize: number }): ScannedEntry {
  const fileFlags = c.vint();
  const unpackedSize = c.vint();
  const attributes = c.vint();
  if (fileFlags & RAR5.fileTime) c.u32();
  const crc = fileFlags & RAR5.fileCrc ? c.u32() : null;
  const compression = c.vint();
  const hostOs = c.vint();
  const nameLength = c.vint();
  const name = new TextDecoder('utf-8').decode(c.take(nameLength));
  let encrypted = false;
  let link: LinkKind | null = null;
  if (c.pos > extraStart) throw damaged('file header overlaps its extra area');
  c.pos = extraStart;
  while (c.remaining > 0) {
    const recordSize = c.vint();
    if (recordSize === 0 || recordSize > c.remaining) throw damaged('extra record size out of range');
    const record = new Cursor(c.take(recordSize));
    const recordType = record.vint();
    if (recordType === RAR5.extraCrypt) encrypted = true;
    if (recordType === RAR5.extraRedir) link = REDIR_KIND[record.vint()] ?? 'symlink';
  }
  if (link === null) link = linkFromAttributes(hostOs === RAR5.hostUnix ? 'unix' : 'windows', attributes);
  const directory = (fileFlags & RAR5.fileDirectory) !== 0;
  return {
    name,
    directory,
    unpackedSize: fileFlags & RAR5.fileUnknownSize ? null : unpackedSize,
    crc32: crc,
    encrypted,
    link,
    // bits 10-13: 128 KiB << N (unrar 6 reads nothing more of it)
    dictionaryBytes: directory ? 0 : 128 * 1024 * 2 ** ((compression >> 10) & 0x0f),
    splitBefore: (headerFlags & RAR5.hflSplitBefore) !== 0,
    splitAfter: (headerFlags & RAR5.hflSplitAfter) !== 0,
    // bits 7-9: the method, 0 = store
    stored: ((compression >> 7) & 0x07) === 0,
    ...data,
  };
}

function linkFromAttributes(host: 'unix' | 'windows' | 'other', attributes: number): LinkKind | null {
  if (host === 'unix' && (attributes & S_IFMT) === S_IFLNK) return 'symlink';
  if (host === 'windows' && (attributes & WIN_ATTR_REPARSE_POINT) !== 0) return 'symlink';
  return null;
}

// ---------------------------------------------------------------- RAR 4

const RAR4 = {
  headMark: 0x72,
  headMain: 0x73,
  headFile: 0x74,
  headNewSub: 0x7a,
  headEnd: 0x7b,
  longBlock: 0x8000,
  mainVolume: 0x0001,
  mainSolid: 0x0008,
  mainPassword: 0x0080,
  endNextVolume: 0x0001,
  fileSplitBefore: 0x0001,
  fileSplitAfter: 0x0002,
  filePassword: 0x0004,
  fileDirMask: 0x00e0,
  fileLarge: 0x0100,
  fileUnicode: 0x0200,
  hostWin32: 2,
  hostUnix: 3,
  methodStore: 0x30,
} as const;

function scanRar4(source: ByteSource): ArchiveScan {
  const scan = emptyScan('rar4');
  let pos = RAR4_SIGNATURE.length;
  let seenMain = false;
  while (pos < source.size) {
    const base = readExact(source, pos, 7, 'header');
    const view = Buffer.from(base.buffer, base.byteOffset, base.byteLength);
    const type = view.readUInt8(2);
    const flags = view.readUInt16LE(3);
    const headSize = view.readUInt16LE(5);
    if (headSize < 7) throw damaged('header size out of range');
    if (type === RAR4.headMark && headSize === 7) {
      pos += 7; // a repeated marker block carries a fixed value, not a CRC
      continue;
    }
    if (!seenMain && type !== RAR4.headMain) throw damaged('no main archive header'); // unrar stops here too
    seenMain = true;
    const header = Buffer.from(readExact(source, pos, headSize, 'header'));
    if ((crc32(header.subarray(2)) & 0xffff) !== header.readUInt16LE(0)) {
      throw damaged('header checksum mismatch');
    }
    let dataSize = 0;
    if (type === RAR4.headFile || type === RAR4.headNewSub) {
      if (headSize < 32) throw damaged('file header too short');
      const large = (flags & RAR4.fileLarge) !== 0;
      if (large && headSize < 40) throw damaged('file header too short');
      dataSize = header.readUInt32LE(7) + (large ? header.readUInt32LE(32) * 2 ** 32 : 0);
      if (type === RAR4.headFile) {
        const entry = readRar4File(header, flags, { dataOffset: pos + headSize, packedSize: dataSize });
        scan.entries.push(entry);
        scan.moreVolumes = entry.splitAfter;
      }
      if (flags & (RAR4.fileSplitBefore | RAR4.fileSplitAfter)) scan.volume = true;
    } else if (flags & RAR4.longBlock) {
      if (headSize < 11) throw damaged('header too short');
      dataSize = header.readUInt32LE(7);
    }
    if (type === RAR4.headMain) {
      if (flags & RAR4.mainVolume) scan.volume = true;
      if (flags & RAR4.mainSolid) scan.solid = true;
      if (flags & RAR4.mainPassword) return { ...scan, headersEncrypted: true };
    } else if (type === RAR4.headEnd) {
      if (flags & RAR4.endNextVolume) scan.volume = scan.moreVolumes = true;
      return scan;
    }
    const next = pos + headSize + dataSize;
    if (next > source.size) throw damaged('data area runs past the end of the file');
    pos = next;
  }
  return scan;
}

function readRar4File(header: Buffer, flags: number, data: { dataOffset: number; packedSize: number }): ScannedEntry {
  const large = (flags & RAR4.fileLarge) !== 0;
  const hostOs = header.readUInt8(15);
  const crc = header.readUInt32LE(16);
  const nameSize = header.readUInt16LE(26);
  const attributes = header.readUInt32LE(28);
  const unpackedSize = header.readUInt32LE(11) + (large ? header.readUInt32LE(36) * 2 ** 32 : 0);
  const nameStart = large ? 40 : 32;
  if (nameStart + nameSize > header.length) throw damaged('file name runs past its header');
  const rawName = header.subarray(nameStart, nameStart + nameSize);
  // Without the Unicode flag the name is in the creator's 8-bit charset; UTF-8 from Unix hosts.
  const name = flags & RAR4.fileUnicode ? decodeRar4UnicodeName(rawName) : new TextDecoder('utf-8').decode(rawName);
  const host = hostOs === RAR4.hostUnix ? 'unix' : hostOs === RAR4.hostWin32 ? 'windows' : 'other';
  const directory = (flags & RAR4.fileDirMask) === RAR4.fileDirMask;
  return {
    name,
    directory,
    unpackedSize,
    crc32: crc,
    encrypted: (flags & RAR4.filePassword) !== 0,
    link: linkFromAttributes(host, attributes),
    // flag bits 5-7: 64 KiB << N; 7 marks a directory
    dictionaryBytes: directory ? 0 : 64 * 1024 * 2 ** ((flags & RAR4.fileDirMask) >> 5),
    splitBefore: (flags & RAR4.fileSplitBefore) !== 0,
    splitAfter: (flags & RAR4.fileSplitAfter) !== 0,
    stored: header.readUInt8(25) === RAR4.methodStore,
    ...data,
  };
}
