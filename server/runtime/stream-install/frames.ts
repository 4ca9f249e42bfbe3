// The stream frames of a streamed install (shared/wire.ts, StreamFrameKind):
// `[kind u8][length u32 BE][payload]`. A control frame's payload is one JSON
// StreamControl, checked field by field here so the receiver's state machine
// only ever sees well-formed values; a data frame's payload is file bytes.
// Sizes are refused from the header, before the payload is read.
import type { Readable } from 'node:stream';
import { StreamFrameKind, type StreamControl } from '../../../shared/wire.js';
import { readExactly } from '../transport/framing.js';
import { protocolError } from './errors.js';

export const STREAM_FRAME_HEADER_BYTES = 5;
/** Largest control frame (paths are at most 4096 bytes). */
export const MAX_CONTROL_FRAME_BYTES = 64 * 1024;
/** Largest data frame a receiver accepts (the sender makes 64 KiB ones). */
export const MAX_DATA_FRAME_BYTES = 1024 * 1024;

export type StreamFrame = { kind: 'control'; control: StreamControl } | { kind: 'data'; bytes: Buffer };

function header(kind: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(STREAM_FRAME_HEADER_BYTES);
  h.writeUInt8(kind, 0);
  h.writeUInt32BE(length, 1);
  return h;
}

export function encodeControl(control: StreamControl): Buffer {
  const json = Buffer.from(JSON.stringify(control), 'utf8');
  if (json.length > MAX_CONTROL_FRAME_BYTES) throw new RangeError(`control frame of ${json.length} bytes is too large`);
  return Buffer.concat([header(StreamFrameKind.Control, json.length), json]);
}

export function encodeData(bytes: Uint8Array): Buffer {
  if (bytes.length === 0 || bytes.length > MAX_DATA_FRAME_BYTES) throw new RangeError(`data frame of ${bytes.length} bytes`);
  return Buffer.concat([header(StreamFrameKind.Data, bytes.length), bytes]);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads one frame. Rejects with a stream_protocol error for anything malformed, and with the stream's error (or EndOfStreamError / FrameTruncatedError) when it ends. */
export async function readStreamFrame(stream: Readable): Promise<StreamFrame> {
  const h = await readExactly(stream, STREAM_FRAME_HEADER_BYTES, true);
  const kind = h.readUInt8(0);
  const length = h.readUInt32BE(1);
  if (kind === StreamFrameKind.Data) {
    if (length === 0 || length > MAX_DATA_FRAME_BYTES) throw protocolError(`data frame of ${length} bytes`);
    return { kind: 'data', bytes: await readExactly(stream, length) };
  }
  if (kind !== StreamFrameKind.Control) throw protocolError(`unknown frame kind ${kind}`);
  if (length === 0 || length > MAX_CONTROL_FRAME_BYTES) throw protocolError(`control frame of ${length} bytes`);
  const body = await readExactly(stream, length);
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    throw protocolError('control frame is not UTF-8 JSON');
  }
  return { kind: 'control', control: parseControl(value) };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** A StreamControl with every field of the right type, or a stream_protocol error. */
export function parseControl(value: unknown): StreamControl {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  switch (v['type']) {
    case 'File':
      if (
        isText(v['path'], 4096) &&
        isCount(v['size']) &&
        (v['crc32'] === null || (typeof v['crc32'] === 'string' && /^[0-9a-f]{8}$/.test(v['crc32'])))
      ) {
        return { type: 'File', path: v['path'], size: v['size'], crc32: v['crc32'] };
      }
      break;
    case 'FileEnd':
      return { type: 'FileEnd' };
    case 'Dir':
      if (isText(v['path'], 4096)) return { type: 'Dir', path: v['path'] };
      break;
    case 'End':
      if (isCount(v['files']) && isCount(v['dirs']) && isCount(v['bytes'])) {
        return { type: 'End', files: v['files'], dirs: v['dirs'], bytes: v['bytes'] };
      }
      break;
    case 'Error':
      if (isText(v['code'], 64) && typeof v['message'] === 'string')
        return { type: 'Error', code: v['code'], message: v['message'].slice(0, 1000) };
      break;
  }
  throw protocolError(`malformed control frame (type ${String(v['type']).slice(0, 40)})`);
}
