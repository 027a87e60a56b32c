/**
 * Householder reduction of a real symmetric matrix to tridiagonal form, the first half of
 * `symmetricEigen` (eigen.ts): the method of EISPACK tred2 (Wilkinson & Reinsch, "Handbook for
 * Automatic Computation II", 1971; Golub & Van Loan §8.3), written here for row-major storage.
 * Hand-written for speed: the orthogonal factor is kept transposed (rows), the Householder steps
 * work on contiguous rows two at a time, and the back-transformation is done in row blocks that
 * stay in cache.
 */

/**
 * Householder reduction of the symmetric matrix `a` (n×n row-major, overwritten) to tridiagonal
 * form T = Qᵀ A Q. On return d holds the diagonal of T, e[i] (i ≥ 1) the sub-diagonal T[i][i−1],
 * and `qt` (n×n) holds Qᵀ (row j of qt is column j of Q).
 *
 * Step i (from n−1 down to 1) reflects the first i coordinates so that row i of the leading
 * (i+1)×(i+1) block becomes (0, …, 0, e_i, d_i): P = I − u uᵀ / h with u built from a[i][0..i−1].
 * The leading i×i block B becomes P B P = B − u qᵀ − q uᵀ, where p = B u / h, K = uᵀp / 2h,
 * q = p − K u. Only the lower triangle of B is read and updated (rows are contiguous).
 */
export function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, qt: Float64Array): void {
  const hs = new Float64Array(n); // h of each reflector (0 = no reflection)
  const p = new Float64Array(n);
  for (let i = n - 1; i >= 1; i--) {
    const rowI = i * n;
    const l = i - 1;
    let scale = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(a[rowI + k]);
    d[i] = a[rowI + i];
    if (i === 1 || scale === 0) {
      // Nothing to annihilate: row i is already (…0, a[i][i−1], a[i][i]).
      e[i] = a[rowI + l];
      hs[i] = 0;
      continue;
    }
    let h = 0;
    for (let k = 0; k < i; k++) {
      const v = a[rowI + k] / scale;
      a[rowI + k] = v;
      h += v * v;
    }
    const f = a[rowI + l];
    const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g;
    h -= f * g;
    a[rowI + l] = f - g; // u is now stored in a[i][0..i−1]
    hs[i] = h;
    symmetricLowerMatVec(a, n, i, rowI, p);
    let up = 0;
    for (let r = 0; r < i; r++) {
      p[r] /= h;
      up += a[rowI + r] * p[r];
    }
    const kk = up / (2 * h);
    for (let r = 0; r < i; r++) p[r] -= kk * a[rowI + r]; // p is now q
    symmetricLowerRank2Update(a, n, i, rowI, p);
  }
  d[0] = a[0];
  e[0] = 0;
  // Qᵀ = P_1 P_2 ⋯ P_{n−1}, built as ((I·P_1)·P_2)⋯. Right-multiplying by P_i changes only the
  // leading i×i block of M (the rest is still the identity there).
  qt.fill(0);
  for (let i = 0; i < n; i++) qt[i * n + i] = 1;
  // Each row of M evolves on its own (M_r ← M_r P_1 P_2 ⋯), so rows are taken in blocks that stay
  // in cache while every reflector streams past once per block; row r is only changed by P_i with
  // i > r (before that it is still e_r, zero in the first i columns).
  const R = Math.max(2, Math.min(64, Math.floor(32768 / Math.max(n, 1)) & ~1));
  for (let r0 = 0; r0 < n; r0 += R) {
    const r1 = Math.min(n, r0 + R);
    for (let i = r0 + 1; i < n; i++) {
      const h = hs[i];
      if (h !== 0) applyReflectorRight(qt, n, i, a, i * n, h, r0, Math.min(r1, i));
    }
  }
}

/**
 * p[0..i) = B u for the symmetric leading i×i block B of a (lower triangle read), u = a[uOff ..
 * uOff+i). Row r contributes B[r][j]·u_j to p_r and B[r][j]·u_r to p_j (j < r); two rows per pass
 * share the loads of u and p.
 */
function symmetricLowerMatVec(a: Float64Array, n: number, i: number, uOff: number, p: Float64Array): void {
  p.fill(0, 0, i);
  let r = 0;
  for (; r + 1 < i; r += 2) {
    const r0 = r * n;
    const r1 = r0 + n;
    const u0 = a[uOff + r];
    const u1 = a[uOff + r + 1];
    let acc0 = 0;
    let acc1 = 0;
    for (let j = 0; j < r; j++) {
      const b0 = a[r0 + j];
      const b1 = a[r1 + j];
      const uj = a[uOff + j];
      acc0 += b0 * uj;
      acc1 += b1 * uj;
      p[j] += b0 * u0 + b1 * u1;
    }
    const off = a[r1 + r]; // B[r+1][r]
    p[r] += acc0 + a[r0 + r] * u0 + off * u1;
    p[r + 1] += acc1 + off * u0 + a[r1 + r + 1] * u1;
  }
  if (r < i) {
    const r0 = r * n;
    const u0 = a[uOff + r];
    let acc0 = 0;
    for (let j = 0; j < r; j++) {
      const b0 = a[r0 + j];
      acc0 += b0 * a[uOff + j];
      p[j] += b0 * u0;
    }
    p[r] += acc0 + a[r0 + r] * u0;
  }
}

/** B ← B − u qᵀ − q uᵀ on the lower triangle of the leading i×i block (u = a[uOff ..), q = p). */
function symmetricLowerRank2Update(a: Float64Array, n: number, i: number, uOff: number, q: Float64Array): void {
  let r = 0;
  for (; r + 1 < i; r += 2) {
    const r0 = r * n;
    const r1 = r0 + n;
    const u0 = a[uOff + r], u1 = a[uOff + r + 1];
    const q0 = q[r], q1 = q[r + 1];
    for (let j = 0; j <= r; j++) {
      const qj = q[j];
      const uj = a[uOff + j];
      a[r0 + j] -= u0 * qj + q0 * uj;
      a[r1 + j] -= u1 * qj + q1 * uj;
    }
    a[r1 + r + 1] -= u1 * q[r + 1] + q1 * a[uOff + r + 1];
  }
  if (r < i) {
    const r0 = r * n;
    const u0 = a[uOff + r];
    const q0 = q[r];
    for (let j = 0; j <= r; j++) a[r0 + j] -= u0 * q[j] + q0 * a[uOff + j];
  }
}

/**
 * Rows [rFrom, rTo) of M (n×n): M_r ← M_r (I − u uᵀ / h) on the first i columns, u = a[uOff ..
 * uOff+i); each row becomes M_r − (M_r·u / h) uᵀ. Two rows per pass share the loads of u.
 */
function applyReflectorRight(
  m: Float64Array, n: number, i: number, a: Float64Array, uOff: number, h: number, rFrom: number, rTo: number,
): void {
  let r = rFrom;
  for (; r + 1 < rTo; r += 2) {
    const r0 = r * n;
    const r1 = r0 + n;
    let s0 = 0;
    let s1 = 0;
    for (let j = 0; j < i; j++) {
      const uj = a[uOff + j];
      s0 += m[r0 + j] * uj;
      s1 += m[r1 + j] * uj;
    }
    if (s0 === 0 && s1 === 0) continue;
    s0 /= h;
    s1 /= h;
    for (let j = 0; j < i; j++) {
      const uj = a[uOff + j];
      m[r0 + j] -= s0 * uj;
      m[r1 + j] -= s1 * uj;
    }
  }
  if (r < rTo) {
    const r0 = r * n;
    let s0 = 0;
    for (let j = 0; j < i; j++) s0 += m[r0 + j] * a[uOff + j];
    if (s0 !== 0) {
      s0 /= h;
      for (let j = 0; j < i; j++) m[r0 + j] -= s0 * a[uOff + j];
    }
  }
}
