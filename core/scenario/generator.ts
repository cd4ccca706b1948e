// The Monte Carlo generator: a Gaussian copula with Pareto marginals, deterministic for a given input.
//
// Draw order (documented, part of GENERATOR_VERSION): the PRNG is xoshiro128** seeded with the first
// 16 bytes of SHA-256("<version>|<seed>"). For each scenario row: one macro normal M, then for each
// bucket in order a systematic normal S_b and an idiosyncratic normal I_b. Each normal is a ziggurat
// draw taking two 32-bit words (value, layer), more only on its rare slow path.
// Cell: z = √w_macro·M + √w_sys·S_b + √w_idio·I_b ~ N(0,1); u = Φ(z); Pareto inverse
//   x = m_b · x_m (1−u)^(−1/α), α = ln 5 / ln(p90/median), x_m = median / 2^(1/α), m_b the recycling multiple
// i.e. x(z) = exp(ln m_b + ln x_m − ln Φ(−z)/α), a smooth increasing function of z. Per bucket it is
// tabulated on [−8, 8] (32 steps per unit, cubic Hermite with exact derivatives; relative error < 5e-7,
// a few float32 ulps) so the inner loop has no transcendental call; outside it is computed exactly.
import { createHash } from "node:crypto";
import { allocateEncoded, seal } from "../codec";
import type { ScenarioConfig } from "./config";
import { generatorInput, type GeneratorInput } from "./key";
import { lnUpperTail, normalPdf, ZIG } from "./normal";

export interface GeneratedMatrix {
  /** the codec's bytes (header + cells), ready to store */
  readonly bytes: Uint8Array;
  /** float32 view of the cells inside `bytes` (row-major, numScenarios × buckets) */
  readonly cells: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly recyclingMultiples: number[];
}

/** Pareto parameters of one bucket, in the log form the inner loop uses: ln x = a + b·ln Φ(−z). */
export function paretoLogParams(median: number, p90: number): { a: number; b: number; alpha: number } {
  const ratio = p90 / median;
  if (ratio <= 1) return { a: Math.log(median), b: 0, alpha: Infinity }; // degenerate: a point mass
  const alpha = Math.log(5) / Math.log(ratio);
  return { a: Math.log(median) - Math.LN2 / alpha, b: -1 / alpha, alpha };
}

export function generateScenarioMatrix(config: ScenarioConfig): GeneratedMatrix {
  return generateFromInput(generatorInput(config));
}

export function generateFromInput(input: GeneratorInput): GeneratedMatrix {
  const rows = input.numScenarios;
  const cols = input.buckets.length;
  const { bytes, cells } = allocateEncoded(rows, cols);

  const a = new Float64Array(cols);
  const b = new Float64Array(cols);
  input.buckets.forEach(([median, p90, multiple], j) => {
    const p = paretoLogParams(median, p90);
    a[j] = p.a + Math.log(multiple);
    b[j] = p.b;
  });
  const table = cellTables(a, b);
  const wm = Math.sqrt(input.weights[0]);
  const ws = Math.sqrt(input.weights[1]);
  const wi = Math.sqrt(input.weights[2]);

  const state = seedState(input);
  // PRNG state in locals and the ziggurat fast path inlined: V8 keeps all of it in registers.
  // The rare slow paths hand the state to nextNormalSlow through `state` and reload it.
  let s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
  const { kn, wn } = ZIG;
  const need = 1 + 2 * cols;
  const normals = new Float64Array(need);
  let k = 0;
  for (let row = 0; row < rows; row++) {
    // One row's normals in draw order: M, then S_b, I_b per bucket.
    for (let n = 0; n < need; n++) {
      // xoshiro128** twice: value word hz, layer word iz
      let r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      let t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      const hz = r;
      r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      const iz = r & 127;
      if (Math.abs(hz) < kn[iz]) {
        normals[n] = hz * wn[iz];
      } else {
        state[0] = s0; state[1] = s1; state[2] = s2; state[3] = s3;
        normals[n] = nextNormalSlow(state, hz, iz);
        s0 = state[0]; s1 = state[1]; s2 = state[2]; s3 = state[3];
      }
    }
    const macro = wm * normals[0];
    for (let j = 0; j < cols; j++) {
      const z = macro + ws * normals[1 + 2 * j] + wi * normals[2 + 2 * j];
      if (z > Z_MIN && z < Z_MAX) {
        const t = (z - Z_MIN) * Z_STEPS;
        const i = t | 0;
        const f = t - i;
        const q = (j * Z_INTERVALS + i) * 4;
        cells[k++] = table[q] + f * (table[q + 1] + f * (table[q + 2] + f * table[q + 3]));
      } else {
        cells[k++] = Math.exp(a[j] + b[j] * lnUpperTail(z)); // |z| ≥ 8: about once in 10^15 draws
      }
    }
  }
  seal(bytes);
  return { bytes, cells, rows, cols, recyclingMultiples: input.buckets.map((x) => x[2]) };
}

const Z_MIN = -8;
const Z_MAX = 8;
const Z_STEPS = 32;
const Z_INTERVALS = (Z_MAX - Z_MIN) * Z_STEPS;

/**
 * Per-bucket cubic coefficients of x(z) = exp(a + b·ln Φ(−z)) on each interval, in the local
 * coordinate f ∈ [0, 1): values and exact derivatives x'(z) = x·b·(−φ(z)/Φ(−z)) at the nodes.
 */
function cellTables(a: Float64Array, b: Float64Array): Float64Array {
  const nodes = Z_INTERVALS + 1;
  const lnTail = new Float64Array(nodes);
  const hazard = new Float64Array(nodes); // −φ(z)/Φ(−z) = d/dz ln Φ(−z)
  for (let i = 0; i < nodes; i++) {
    const z = Z_MIN + i / Z_STEPS;
    lnTail[i] = lnUpperTail(z);
    hazard[i] = -normalPdf(z) / Math.exp(lnTail[i]);
  }
  const out = new Float64Array(a.length * Z_INTERVALS * 4);
  const x = new Float64Array(nodes);
  const d = new Float64Array(nodes);
  for (let j = 0; j < a.length; j++) {
    for (let i = 0; i < nodes; i++) {
      x[i] = Math.exp(a[j] + b[j] * lnTail[i]);
      d[i] = (x[i] * b[j] * hazard[i]) / Z_STEPS;
    }
    for (let i = 0; i < Z_INTERVALS; i++) {
      const q = (j * Z_INTERVALS + i) * 4;
      out[q] = x[i];
      out[q + 1] = d[i];
      out[q + 2] = 3 * (x[i + 1] - x[i]) - 2 * d[i] - d[i + 1];
      out[q + 3] = 2 * (x[i] - x[i + 1]) + d[i] + d[i + 1];
    }
  }
  return out;
}

/** xoshiro128** state from the first 16 bytes of SHA-256("<version>|<seed>"). */
function seedState(input: GeneratorInput): Int32Array {
  const digest = createHash("sha256").update(`${input.version}|${input.seed}`).digest();
  const s = new Int32Array(4);
  for (let i = 0; i < 4; i++) s[i] = digest.readUInt32LE(4 * i) | 0;
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // xoshiro's one forbidden state
  return s;
}

// State lives in an Int32Array, not in closure variables, so V8 keeps the hot loop free of
// context allocations (about 2x faster).
/** xoshiro128** (Blackman & Vigna): the next signed 32-bit word. */
function nextWord(s: Int32Array): number {
  const s0 = s[0], s1 = s[1];
  const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
  const t = s1 << 9;
  const s2 = s[2] ^ s0;
  const s3 = s[3] ^ s1;
  s[1] = s1 ^ s2;
  s[0] = s0 ^ s3;
  s[2] = s2 ^ t;
  s[3] = rotl(s3, 11);
  return r;
}

function nextUniform(s: Int32Array): number {
  return ((nextWord(s) >>> 0) + 0.5) / 4294967296; // in (0, 1)
}

/**
 * Marsaglia–Tsang ziggurat (the layer comes from a second word so it is independent of the value),
 * entered after the inlined fast path rejected (hz, iz).
 */
function nextNormalSlow(s: Int32Array, hz: number, iz: number): number {
  const { kn, wn, fn, r } = ZIG;
  for (;;) {
    if (iz === 0) {
      // base strip: sample the tail beyond r
      let x: number;
      let y: number;
      do {
        x = -Math.log(nextUniform(s)) / r;
        y = -Math.log(nextUniform(s));
      } while (y + y < x * x);
      return hz > 0 ? r + x : -r - x;
    }
    const x = hz * wn[iz];
    if (fn[iz] + nextUniform(s) * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) return x;
    hz = nextWord(s);
    iz = nextWord(s) & 127;
    if (Math.abs(hz) < kn[iz]) return hz * wn[iz];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
