// RAR 4's packed Unicode file names, decoded exactly as unrar does
// (EncodeFileName::Decode), so names are checked as unrar will see them. Pure.

/**
 * RAR 4 Unicode names: an 8-bit name, a NUL, then UTF-16 code units packed
 * against it (unrar's EncodeFileName::Decode). Without the NUL the field is UTF-8.
 */
export function decodeRar4UnicodeName(raw: Uint8Array): string {
  const nul = raw.indexOf(0);
  if (nul < 0) return new TextDecoder('utf-8').decode(raw);
  const name = raw.subarray(0, nul);
  const enc = raw.subarray(nul + 1);
  const out: number[] = [];
  let encPos = 0;
  const highByte = enc.length > 0 ? enc[encPos++]! : 0;
  let flags = 0;
  let flagBits = 0;
  const max = 4096;
  while (encPos < enc.length && out.length < max) {
    if (flagBits === 0) {
      flags = enc[encPos++]!;
      flagBits = 8;
    }
    switch (flags >> 6) {
      case 0:
        if (encPos >= enc.length) break;
        out.push(enc[encPos++]!);
        break;
      case 1:
        if (encPos >= enc.length) break;
        out.push(enc[encPos++]! + (highByte << 8));
        break;
      case 2:
        if (encPos + 1 >= enc.length) break;
        out.push(enc[encPos]! + (enc[encPos + 1]! << 8));
        encPos += 2;
        break;
      default: {
        if (encPos >= enc.length) break;
        let length = enc[encPos++]!;
        if (length & 0x80) {
          if (encPos >= enc.length) break;
          const correction = enc[encPos++]!;
          for (length = (length & 0x7f) + 2; length > 0 && out.length < name.length; length--) {
            out.push(((name[out.length]! + correction) & 0xff) + (highByte << 8));
          }
        } else {
          for (length += 2; length > 0 && out.length < name.length; length--) {
            out.push(name[out.length]!);
          }
        }
      }
    }
    flags = (flags << 2) & 0xff;
    flagBits -= 2;
  }
  return String.fromCharCode(...out);
}
