// The one source of randomness: xoshiro128** (Blackman & Vigna, 2018) on four uint32
// words, seeded through SplitMix32 so that nearby seeds give unrelated streams.
// Initialisation, shuffling, splits and generators all draw from an Rng made from the
// run's seed, so the same seed and config give the same bits. The state is four
// integers, so a checkpoint can store it and resume the exact stream.

export interface Rng {
  /** Next uint32. */
  nextU32(): number;
  /** Uniform double in [0, 1), 32 random bits. */
  uniform(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller; one draw per call, the partner value is discarded). */
  normal(): number;
  /** Shuffle in place (Fisher–Yates, from the end). */
  shuffle(a: Int32Array | number[]): void;
  /** A copy of the four state words. */
  getState(): Uint32Array;
  setState(state: ArrayLike<number>): void;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed: number): Rng {
  const s = new Uint32Array(4);
  const mix = splitmix32(seed);
  for (let i = 0; i < 4; i++) s[i] = mix();
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;

  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  const uniform = () => nextU32() / 4294967296;
  const int = (n: number) => {
    // Rejection keeps every value equally likely for any n, not only powers of two.
    const limit = 4294967296 - (4294967296 % n);
    let v: number;
    do v = nextU32();
    while (v >= limit);
    return v % n;
  };
  return {
    nextU32,
    uniform,
    int,
    normal() {
      let u = uniform();
      while (u === 0) u = uniform();
      const v = uniform();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    shuffle(a) {
      for (let i = a.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
      }
    },
    getState: () => s.slice(),
    setState(state) {
      for (let i = 0; i < 4; i++) s[i] = state[i]! >>> 0;
    },
  };
}
