/**
 * The machine's only source of randomness: a seeded xoshiro128** generator. The CPU's
 * RNG (platform keys, PCONFIG random keys) and anything else that
 * looks random draws from one of these, so a run with the same seed replays exactly.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 to spread a small seed over the 128-bit state.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
  }

  /** A uniformly distributed uint32. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t; this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** An integer in [0, n), n <= 2^32. */
  below(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** Fill `dst` with random bytes. */
  fill(dst: Uint8Array): Uint8Array {
    for (let i = 0; i < dst.length; i += 4) {
      let v = this.u32();
      for (let j = i; j < i + 4 && j < dst.length; j++) { dst[j] = v & 0xff; v >>>= 8; }
    }
    return dst;
  }

  /** A child generator, so one consumer's draws do not shift another's. */
  fork(): Rng {
    return new Rng(this.u32() ^ Math.imul(this.u32(), 0x2545f491));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
