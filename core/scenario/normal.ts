// Normal-distribution helpers for the generator: ln Φ(−z) (the Pareto inverse needs it) and a
// deterministic Marsaglia–Tsang ziggurat. Only Math.exp/log/sqrt are used: V8's are software
// (fdlibm ports), so the tables and the draws are bit-identical on every machine running Node.

/** erfc(x) for x ≥ 0 as ln, via the Numerical Recipes Chebyshev fit (fractional error < 1.2e-7). */
function lnErfcNonNeg(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
    t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + poly;
}

/** ln Φ(−z) = ln P(Z > z), accurate in both tails (no underflow for large z). */
export function lnUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  if (x >= 0) return Math.log(0.5) + lnErfcNonNeg(x);
  // Φ(−z) = 1 − ½ erfc(|x|): log1p keeps precision when the tail term is tiny.
  return Math.log1p(-0.5 * Math.exp(lnErfcNonNeg(-x)));
}

/** Standard normal density. */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

// --- Ziggurat tables (Marsaglia & Tsang 2000, 128 layers).
const ZIG_R = 3.442619855899;
export const ZIG = (() => {
  const m1 = 2147483648.0;
  const vn = 9.91256303526217e-3;
  const kn = new Float64Array(128);
  const wn = new Float64Array(128);
  const fn = new Float64Array(128);
  let dn = ZIG_R;
  let tn = dn;
  const q = vn / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * m1);
  kn[1] = 0;
  wn[0] = q / m1;
  wn[127] = dn / m1;
  fn[0] = 1;
  fn[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * m1);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / m1;
  }
  return { kn, wn, fn, r: ZIG_R };
})();
