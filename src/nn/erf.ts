/**
 * The error function to float64 precision, and the exact GELU built on it, for float64 models
 * that must equal PyTorch: jax-js 0.1.25's `erf` (and so `nn.gelu(x, { approximate: false })`)
 * is a float32-accurate approximation even in float64 and on the exact cpu device (gelu(-2) =
 * -0.0455001295 against -0.0455002639), which moved a small ViT's logits by 6e-8 relative.
 *
 * erf is fdlibm's rational approximation (s_erf.c, Sun Microsystems 1993; also Go's math.Erf),
 * error below 1 ulp there, on four ranges of |x|: [0, 0.84375) x + x R(x^2)/S(x^2);
 * [0.84375, 1.25) erx + P(|x|-1)/Q(|x|-1); [1.25, 6) 1 - exp(-x^2 - 0.5625 + R(1/x^2)/S(1/x^2))/|x|
 * (two coefficient sets split at 1/0.35; fdlibm's split of x^2 into a 20-bit head and a tail is
 * left out: it costs at most a few ulps of erfc, far below erf's ulp there); 1 beyond 6. Every
 * branch is evaluated on inputs clamped into its range, then selected, so no branch makes an
 * infinity or NaN whose zero-weighted derivative would still poison the gradient. Constants are
 * float64 arrays (under jit plain numbers become float32). Autodiff differentiates the
 * approximation itself; its derivatives match erf's to about 1e-15 relative.
 */
import { nn, numpy as np, type Array } from "../engine/jax.ts";
import { constant, type DTypeName } from "../engine/dtype.ts";

const ERX = 8.45062911510467529297e-01;
const PP = [1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02, -5.77027029648944159157e-03, -2.37630166566501626084e-05];
const QQ = [1, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06];
const PA = [-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01, 3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02, -2.16637559486879084300e-03];
const QA = [1, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02];
const RA = [-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01, -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02, -8.12874355063065934246e+01, -9.81432934416914548592e+00];
const SA = [1, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02, 6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02, 6.57024977031928170135e+00, -6.04244152148580987438e-02];
const RB = [-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01, -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03, -4.83519191608651397019e+02];
const SB = [1, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03, 3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02, -2.24409524465858183362e+01];

function dtypeOf(x: Array): DTypeName {
  return x.dtype === np.float64 ? "float64" : "float32";
}

/** c0 + z (c1 + z (c2 + ...)), coefficients as constants of z's dtype. Consumes z. */
function horner(z: Array, coeffs: readonly number[]): Array {
  const dt = dtypeOf(z);
  let acc = constant(coeffs[coeffs.length - 1]!, dt);
  for (let i = coeffs.length - 2; i >= 0; i--) acc = acc.mul(z.ref).add(constant(coeffs[i]!, dt));
  z.dispose();
  return acc;
}

/** erf(x), elementwise (module comment). Consumes x. */
export function erf(x: Array): Array {
  const dt = dtypeOf(x);
  const c = (v: number) => constant(v, dt);
  const a = np.abs(x.ref);
  const sign = np.sign(x.ref);
  // [0, 0.84375): x + x R/S, odd in x; clamped so the branch stays small elsewhere.
  const x1 = np.clip(x.ref, c(-0.84375), c(0.84375));
  const z1 = x1.ref.mul(x1.ref);
  const small = x1.ref.add(x1.mul(horner(z1.ref, PP).div(horner(z1, QQ))));
  // [0.84375, 1.25): erx + P/Q at s = |x| - 1.
  const s2 = np.clip(a.ref, c(0.84375), c(1.25)).sub(c(1));
  const mid = sign.ref.mul(horner(s2.ref, PA).div(horner(s2, QA)).add(c(ERX)));
  // [1.25, 6): 1 - exp(-x^2 - 0.5625 + R/S)/|x|, with R/S in 1/x^2 from one of two sets.
  const a3 = np.clip(a.ref, c(1.25), c(6));
  const t = c(1).div(a3.ref.mul(a3.ref));
  const rsA = horner(t.ref, RA).div(horner(t.ref, SA));
  const rsB = horner(t.ref, RB).div(horner(t, SB));
  const rs = np.where(a.ref.less(c(1 / 0.35)), rsA, rsB);
  const tail = np.exp(a3.ref.mul(a3.ref).neg().sub(c(0.5625)).add(rs)).div(a3);
  const large = sign.ref.mul(c(1).sub(tail));
  const out = np.where(
    a.ref.less(c(0.84375)),
    small,
    np.where(a.ref.less(c(1.25)), mid, np.where(a.ref.less(c(6)), large, sign)),
  );
  a.dispose();
  x.dispose();
  return out;
}

/**
 * GELU(x) = x/2 (1 + erf(x / sqrt 2)), PyTorch's nn.GELU() (approximate="none"). Float64 arrays
 * use erf above; float32 ones jax-js's own, float32-accurate and cheaper. Consumes x.
 */
export function geluExact(x: Array): Array {
  if (x.dtype !== np.float64) return nn.gelu(x, { approximate: false });
  const e = erf(x.ref.mul(constant(Math.SQRT1_2, "float64")));
  return x.mul(e.add(constant(1, "float64"))).mul(constant(0.5, "float64"));
}
