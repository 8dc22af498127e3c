// Seeded, deterministic randomness for sampling. Every random draw in the engine goes through an
// injected `Rng`, so a completion is reproducible from (model, prompt, settings, seed).

/** A source of uniform doubles in [0, 1). */
export interface Rng {
  next(): number;
}

/** splitmix32: spreads a small integer seed over the 128-bit xoshiro state (no all-zero state). */
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

/** xoshiro128** (Blackman & Vigna): fast, 2^128-1 period, good equidistribution for 32-bit output. */
export function createRng(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1;
  return {
    next(): number {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      // 32 random bits → [0, 1); 2^-32 resolution is ample for sampling over ≤ 2^18 ids.
      return result / 4294967296;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
