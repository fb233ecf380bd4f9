/**
 * The URLs a worker has offered to the store for one job, as 64-bit fingerprints in a flat
 * open-addressing table (two Int32Arrays, linear probing): 8 bytes a slot, at most half full, so
 * about 16 bytes per URL against some 100 for a Set of strings (the string, its header and the
 * Set's entry) — a million-URL job keeps 16 MB here and no per-URL object — and a lookup is one
 * pass over the URL's characters plus, mostly, one probe.
 *
 * It is a filter in front of the store's unique index, not the index: two different URLs with the
 * same 64 bits would make the second look offered already and it would not be admitted. For n
 * URLs the chance that any pair collides is about n² / 2⁶⁵ (3 × 10⁻⁸ for a million-URL job).
 */

/** Empty slot marker: both halves zero (a fingerprint never is: see `fingerprint`). */
const INITIAL_SLOTS = 1 << 10;

export class SeenUrls {
  private hi: Int32Array;
  private lo: Int32Array;
  private mask: number;
  private count = 0;
  private clearCount = 0;
  /** Last fingerprint computed (two halves), to avoid allocating a pair per call. */
  private h1 = 0;
  private h2 = 0;

  /** `maxSize`: when this many are held, the table starts over (the store still de-duplicates). */
  constructor(private readonly maxSize: number = 2_000_000) {
    this.hi = new Int32Array(INITIAL_SLOTS);
    this.lo = new Int32Array(INITIAL_SLOTS);
    this.mask = INITIAL_SLOTS - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  has(url: string): boolean {
    this.fingerprint(url);
    return this.find(this.h1, this.h2) >= 0;
  }

  /** Adds `url`; true when it was not there yet. */
  add(url: string): boolean {
    this.fingerprint(url);
    const h1 = this.h1;
    const h2 = this.h2;
    let i = h2 & this.mask;
    const { hi, lo, mask } = this;
    for (;;) {
      const a = hi[i]!;
      const b = lo[i]!;
      if (a === 0 && b === 0) break;
      if (a === h1 && b === h2) return false;
      i = (i + 1) & mask;
    }
    if (this.count >= this.maxSize) {
      this.clear();
      return this.add(url);
    }
    hi[i] = h1;
    lo[i] = h2;
    this.count++;
    if (this.count * 2 > this.mask + 1) this.grow();
    return true;
  }

  /** Removes `url` (backward-shift deletion: no tombstones, probes stay short). */
  delete(url: string): boolean {
    this.fingerprint(url);
    let i = this.find(this.h1, this.h2);
    if (i < 0) return false;
    const { hi, lo, mask } = this;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (hi[j] === 0 && lo[j] === 0) break;
      const home = lo[j]! & mask;
      // The entry at j may move back to i when its home slot is not in (i, j] (cyclically).
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        hi[i] = hi[j]!;
        lo[i] = lo[j]!;
        i = j;
      }
    }
    hi[i] = 0;
    lo[i] = 0;
    this.count--;
    return true;
  }

  /** How many times the table started over (`clear`, or `add` at `maxSize`). */
  get clears(): number {
    return this.clearCount;
  }

  clear(): void {
    this.clearCount++;
    this.hi = new Int32Array(INITIAL_SLOTS);
    this.lo = new Int32Array(INITIAL_SLOTS);
    this.mask = INITIAL_SLOTS - 1;
    this.count = 0;
  }

  private find(h1: number, h2: number): number {
    const { hi, lo, mask } = this;
    let i = h2 & mask;
    for (;;) {
      const a = hi[i]!;
      const b = lo[i]!;
      if (a === h1 && b === h2) return i;
      if (a === 0 && b === 0) return -1;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    const slots = oldHi.length * 2;
    const hi = new Int32Array(slots);
    const lo = new Int32Array(slots);
    const mask = slots - 1;
    for (let k = 0; k < oldHi.length; k++) {
      const a = oldHi[k]!;
      const b = oldLo[k]!;
      if (a === 0 && b === 0) continue;
      let i = b & mask;
      while (hi[i] !== 0 || lo[i] !== 0) i = (i + 1) & mask;
      hi[i] = a;
      lo[i] = b;
    }
    this.hi = hi;
    this.lo = lo;
    this.mask = mask;
  }

  /** Two independent 32-bit hashes of the UTF-16 code units (FNV-1a, and a murmur3-style mix), never both 0. */
  private fingerprint(url: string): void {
    let a = 0x811c9dc5 | 0;
    let b = 0x9747b28c | 0;
    for (let i = 0; i < url.length; i++) {
      const c = url.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    b ^= url.length;
    b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
    b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
    b ^= b >>> 16;
    a ^= a >>> 16;
    if (a === 0 && b === 0) b = 1;
    this.h1 = a;
    this.h2 = b;
  }
}
