// A set of chunk indices as one bit per chunk, the compact have-set peers send
// each other (base64 on the wire). Bits past `size` are always zero, so two
// bitfields of the same size compare byte by byte.
export class Bitfield {
  readonly bytes: Uint8Array;
  private ones = 0;

  constructor(readonly size: number) {
    this.bytes = new Uint8Array(Math.ceil(size / 8));
  }

  /** All of `size` set (a complete holder). */
  static full(size: number): Bitfield {
    const b = new Bitfield(size);
    for (let i = 0; i < size; i++) b.set(i);
    return b;
  }

  /** Parse a peer's base64 have-set; null when it does not describe exactly `size` chunks. */
  static fromBase64(text: string, size: number): Bitfield | null {
    const raw = Buffer.from(text, 'base64');
    const b = new Bitfield(size);
    if (raw.length !== b.bytes.length) return null;
    b.bytes.set(raw);
    const spare = b.bytes.length * 8 - size;
    if (spare > 0 && (b.bytes[b.bytes.length - 1]! & ((1 << spare) - 1)) !== 0) return null;
    for (let i = 0; i < size; i++) if (b.has(i)) b.ones++;
    return b;
  }

  has(i: number): boolean {
    return i >= 0 && i < this.size && (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  /** Set bit `i`; returns whether it was new. */
  set(i: number): boolean {
    if (i < 0 || i >= this.size || this.has(i)) return false;
    this.bytes[i >> 3]! |= 0x80 >> (i & 7);
    this.ones++;
    return true;
  }

  /** Clear bit `i`; returns whether it was set. */
  clear(i: number): boolean {
    if (!this.has(i)) return false;
    this.bytes[i >> 3]! &= ~(0x80 >> (i & 7));
    this.ones--;
    return true;
  }

  get count(): number {
    return this.ones;
  }

  get complete(): boolean {
    return this.ones === this.size;
  }

  toBase64(): string {
    return Buffer.from(this.bytes).toString('base64');
  }
}
