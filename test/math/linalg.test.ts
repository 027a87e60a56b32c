import { test } from 'node:test';
import assert from 'node:assert/strict';
import { covarianceAccumulator } from '../../src/math/covariance.js';
import { symmetricEigen, symmetricEigenvalues } from '../../src/math/eigen.js';
import { pinv, pinvh, pinvhWithRank } from '../../src/math/linalg.js';
import { matmul, matmulABt, matVec, transpose } from '../../src/math/products.js';
import { NapoodError } from '../../src/errors.js';
import { assertClose, loadFixture, maxAbs, normals, rng } from './fixtures.js';

interface EigenCase {
  name: string;
  n: number;
  a: number[];
  values: number[];
  vectors: number[];
  pinvh: number[];
  rank: number;
}
interface PinvCase {
  name: string;
  rows: number;
  cols: number;
  w: number[];
  pinv: number[];
  singular: number[];
}
interface CovFixture {
  n: number;
  c: number;
  groups: number;
  x: number[];
  labels: number[];
  mean: number[];
  givenMean: number[];
  covMean: number[];
  covGiven: number[];
  groupMeans: number[];
  covGroups: number[];
}

const eigen = loadFixture<{ cases: EigenCase[] }>('eigen.json');
const pinvFixture = loadFixture<{ cases: PinvCase[] }>('pinv.json');
const cov = loadFixture<CovFixture>('covariance.json');

/** Checks A·V = V·Λ, VᵀV = I (all to 1e-9 relative to max|λ|), and eigenvalues against numpy. */
function checkEigen(a: ArrayLike<number>, n: number, values: Float64Array, vectors: Float64Array, what: string): void {
  const scale = Math.max(maxAbs(values), 1e-300);
  const av = matmul(Float64Array.from(a), vectors, n, n, n);
  let resid = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) resid = Math.max(resid, Math.abs(av[i * n + j] - vectors[i * n + j] * values[j]));
  assert.ok(resid <= 1e-9 * scale || (scale === 1e-300 && resid === 0), `${what}: |AV − VΛ| = ${resid}`);
  const vtv = matmul(transpose(vectors, n, n), vectors, n, n, n);
  let orth = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) orth = Math.max(orth, Math.abs(vtv[i * n + j] - (i === j ? 1 : 0)));
  assert.ok(orth <= 1e-9, `${what}: |VᵀV − I| = ${orth}`);
  for (let j = 1; j < n; j++) assert.ok(values[j - 1] <= values[j], `${what}: eigenvalues not ascending at ${j}`);
}

test('symmetricEigen matches numpy.linalg.eigh on the golden matrices', () => {
  for (const c of eigen.cases) {
    const { values, vectors } = symmetricEigen(Float64Array.from(c.a), c.n);
    // Eigenvalues: 1e-9 relative to the largest |λ| (relative error of a zero eigenvalue is undefined).
    assertClose(values, c.values, 1e-9, `${c.name} eigenvalues`);
    checkEigen(c.a, c.n, values, vectors, c.name);
    // Eigenvectors of simple eigenvalues agree with numpy's up to sign.
    const gapTol = 1e-6 * Math.max(maxAbs(c.values), 1);
    for (let j = 0; j < c.n; j++) {
      const simple = (j === 0 || c.values[j] - c.values[j - 1] > gapTol) && (j === c.n - 1 || c.values[j + 1] - c.values[j] > gapTol);
      if (!simple) continue;
      let dot = 0;
      for (let i = 0; i < c.n; i++) dot += vectors[i * c.n + j] * c.vectors[i * c.n + j];
      assert.ok(Math.abs(Math.abs(dot) - 1) <= 1e-9, `${c.name}: eigenvector ${j} |v·v_numpy| = ${Math.abs(dot)}`);
    }
    assertClose(symmetricEigenvalues(Float64Array.from(c.a), c.n), c.values, 1e-9, `${c.name} eigenvalues only`);
  }
});

test('symmetricEigen: only the lower triangle is read (like eigh UPLO=L)', () => {
  const c = eigen.cases.find((x) => x.name === 'spd5')!;
  const a = Float64Array.from(c.a);
  for (let i = 0; i < c.n; i++) for (let j = i + 1; j < c.n; j++) a[i * c.n + j] = 1e6; // garbage above
  assertClose(symmetricEigen(a, c.n).values, c.values, 1e-9, 'lower triangle');
});

test('symmetricEigen: repeated eigenvalues of a diagonal matrix, empty and 1×1', () => {
  const r = symmetricEigen(Float64Array.from([3, 0, 0, 0, 1, 0, 0, 0, 3]), 3);
  assert.deepEqual(Array.from(r.values), [1, 3, 3]);
  assert.equal(symmetricEigen(new Float64Array(0), 0).values.length, 0);
  const one = symmetricEigen(Float64Array.from([-2]), 1);
  assert.deepEqual(Array.from(one.values), [-2]);
  assert.deepEqual(Array.from(one.vectors), [1]);
});

test('symmetricEigen: larger random covariance (n = 96) reconstructs to 1e-9', () => {
  const next = rng(7);
  const n = 96;
  const rows = 150;
  const x = new Float32Array(normals(rows * n, next));
  const acc = covarianceAccumulator(n);
  acc.update(x, rows);
  const a = acc.finish();
  const { values, vectors } = symmetricEigen(a, n);
  checkEigen(a, n, values, vectors, 'random 96');
});

test('symmetricEigen errors name the argument, the expectation and what was found', () => {
  assert.throws(() => symmetricEigen(new Float64Array(5), 2), (e: unknown) => e instanceof NapoodError && /symmetricEigen matrix: expected a 2×2 row-major matrix \(4 values\), found 5 values/.test(e.message));
  assert.throws(() => symmetricEigen(Float64Array.from([1, NaN, NaN, 1]), 2), /symmetricEigen matrix: expected finite values, found NaN at index 1/);
});

test('pinvh matches scipy.linalg.pinvh (default cutoff) incl. rank-deficient and indefinite', () => {
  for (const c of eigen.cases) {
    const { inverse, rank } = pinvhWithRank(Float64Array.from(c.a), c.n);
    assert.equal(rank, c.rank, `${c.name} rank`);
    assertClose(inverse, c.pinvh, 1e-8, `${c.name} pinvh`);
    assertClose(pinvh(Float64Array.from(c.a), c.n), c.pinvh, 1e-8, `${c.name} pinvh`);
  }
});

test('pinvh: zero matrix gives zero; rtol can drop small eigenvalues; bad rtol is an error', () => {
  assert.deepEqual(Array.from(pinvh(new Float64Array(4), 2)), [0, 0, 0, 0]);
  const d = Float64Array.from([4, 0, 0, 1e-3]);
  assert.deepEqual(Array.from(pinvh(d, 2)), [0.25, 0, 0, 1000]);
  assert.deepEqual(Array.from(pinvh(d, 2, { rtol: 1e-2 })), [0.25, 0, 0, 0]);
  assert.deepEqual(Array.from(pinvh(d, 2, { atol: 1e-3 })), [0.25, 0, 0, 0]); // |λ| must be > cutoff
  assert.throws(() => pinvh(d, 2, { rtol: -1 }), /pinvh rtol: expected a finite number ≥ 0, found -1/);
});

test('pinv matches numpy.linalg.pinv on wide, tall and rank-deficient matrices', () => {
  for (const c of pinvFixture.cases) {
    const p = pinv(Float64Array.from(c.w), c.rows, c.cols);
    assert.equal(p.length, c.rows * c.cols);
    assertClose(p, c.pinv, 1e-8, `${c.name} pinv`);
    // Also from float32 input when the values are exact in float32.
    const w32 = Float32Array.from(c.w);
    if (w32.every((v, i) => v === c.w[i])) assertClose(pinv(w32, c.rows, c.cols), c.pinv, 1e-8, `${c.name} pinv f32`);
  }
});

test('pinv: Penrose conditions W·P·W = W and P·W·P = P on a random 20×7', () => {
  const next = rng(3);
  const w = normals(140, next);
  const p = pinv(w, 20, 7);
  const wpw = matmul(matmul(w, p, 20, 7, 20), w, 20, 20, 7);
  assertClose(wpw, w, 1e-10, 'WPW');
  const pwp = matmul(matmul(p, w, 7, 20, 7), p, 7, 7, 20);
  assertClose(pwp, p, 1e-10, 'PWP');
  assert.throws(() => pinv(new Float64Array(5), 2, 3), /pinv matrix: expected a 2×3 row-major matrix \(6 values\), found 5 values/);
});

test('matmul / matmulABt / matVec / transpose agree with a naive triple loop (odd sizes)', () => {
  const next = rng(11);
  for (const [m, k, n] of [[1, 1, 1], [3, 5, 2], [37, 129, 70], [65, 3, 513], [9, 600, 11]]) {
    const a = normals(m * k, next);
    const b = normals(k * n, next);
    const naive = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      naive[i * n + j] = s;
    }
    assertClose(matmul(a, b, m, k, n), naive, 1e-13, `matmul ${m}×${k}×${n}`);
    assertClose(matmulABt(a, transpose(b, k, n), m, k, n), naive, 1e-13, `matmulABt ${m}×${k}×${n}`);
    assertClose(matVec(a, b.subarray(0, k), m, k), matmul(a, b.subarray(0, k), m, k, 1), 1e-13, 'matVec');
  }
  assert.throws(() => matmul(new Float64Array(6), new Float64Array(5), 2, 3, 2), /matmul b: expected a 3×2 matrix \(6 values\), found 5 values/);
});

test('covarianceAccumulator matches np.cov(bias=True), given-mean and class-centred covariances', () => {
  const x = Float32Array.from(cov.x);
  const labels = Int32Array.from(cov.labels);
  const acc = covarianceAccumulator(cov.c, { groups: cov.groups });
  // Uneven chunks (1, 6, rest) exercise the 4-row block and its remainder.
  const cuts = [0, 1, 7, cov.n];
  for (let i = 0; i + 1 < cuts.length; i++) {
    acc.update(x.subarray(cuts[i] * cov.c, cuts[i + 1] * cov.c), cuts[i + 1] - cuts[i], labels.subarray(cuts[i], cuts[i + 1]));
  }
  assert.equal(acc.count, cov.n);
  assertClose(acc.mean(), cov.mean, 1e-12, 'mean');
  assertClose(acc.finish(), cov.covMean, 1e-10, 'cov about mean');
  assertClose(acc.finish('mean'), cov.covMean, 1e-10, 'cov about mean');
  assertClose(acc.finish(Float64Array.from(cov.givenMean)), cov.covGiven, 1e-10, 'cov about given mean');
  assertClose(acc.groupMeans().means, cov.groupMeans, 1e-12, 'group means');
  assertClose(acc.finish('groups'), cov.covGroups, 1e-10, 'class-centred cov');
  const f = acc.finish();
  for (let i = 0; i < cov.c; i++) for (let j = 0; j < cov.c; j++) assert.equal(f[i * cov.c + j], f[j * cov.c + i]);
});

test('covarianceAccumulator errors', () => {
  const acc = covarianceAccumulator(3, { groups: 2 });
  assert.throws(() => acc.finish(), /covariance finish: expected at least one row, found 0 rows/);
  assert.throws(() => acc.update(new Float32Array(5), 2, new Int32Array(2)), /covariance update rows: expected 2×3 values \(6\), found 5 values/);
  assert.throws(() => acc.update(new Float32Array(6), 2), /covariance update labels: expected 2 labels \(accumulator has 2 groups\), found none/);
  assert.throws(() => acc.update(new Float32Array(6), 2, Int32Array.from([0, 2])), /expected labels in \[0, 2\), found 2 at row 1/);
  assert.throws(() => acc.update(Float32Array.from([1, 2, NaN]), 1, Int32Array.from([0])), /covariance update rows: expected finite values, found NaN at row 0, column 2/);
  const plain = covarianceAccumulator(2);
  plain.update(Float32Array.from([1, 2, 3, 4]), 2);
  assert.throws(() => plain.finish('groups'), /covariance finish centre/);
  assert.throws(() => plain.finish(new Float64Array(3)), /expected a mean vector of length 2, found length 3/);
  assert.deepEqual(Array.from(plain.finish()), [1, 1, 1, 1]);
});

test('covarianceAccumulator: odd C, one-row updates and a rejected chunk give the naive covariance', () => {
  const next = rng(21);
  const c = 7;
  const n = 29;
  const x = new Float32Array(normals(n * c, next).map((v, i) => v * (1 + (i % c)) + 50));
  const acc = covarianceAccumulator(c);
  for (let r = 0; r < n; r++) {
    if (r === 13) assert.throws(() => acc.update(Float32Array.from([1, 2, 3, 4, 5, 6, Infinity]), 1), /found Infinity at row 0, column 6/);
    acc.update(x.subarray(r * c, r * c + c), 1);
  }
  const mean = new Float64Array(c);
  for (let r = 0; r < n; r++) for (let j = 0; j < c; j++) mean[j] += x[r * c + j] / n;
  const naive = new Float64Array(c * c);
  for (let r = 0; r < n; r++) for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) naive[i * c + j] += ((x[r * c + i] - mean[i]) * (x[r * c + j] - mean[j])) / n;
  assert.equal(acc.count, n);
  assertClose(acc.finish(), naive, 1e-12, 'odd C covariance');
  // finish() can be called again after more rows.
  acc.update(x.subarray(0, 8 * c), 8);
  assert.equal(acc.count, n + 8);
});

test('pinvh of a singular 300×300 covariance (rank 249, dead channels): Penrose conditions, exact symmetry', () => {
  const next = rng(17);
  const n = 300;
  const rows = 250; // fewer rows than channels: rank ≤ 249 after centring
  const x = new Float32Array(normals(rows * n, next));
  for (let r = 0; r < rows; r++) for (const dead of [5, 77, 299]) x[r * n + dead] = 0;
  const acc = covarianceAccumulator(n);
  acc.update(x, rows);
  const a = acc.finish();
  const { inverse: b, rank } = pinvhWithRank(a, n);
  assert.equal(rank, rows - 1);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) assert.equal(b[i * n + j], b[j * n + i]);
  const aba = matmul(matmul(a, b, n, n, n), a, n, n, n);
  assertClose(aba, a, 1e-9, 'A·A⁺·A');
  const bab = matmul(matmul(b, a, n, n, n), b, n, n, n);
  assertClose(bab, b, 1e-9, 'A⁺·A·A⁺');
  // Dead channels: (numerically) zero rows of the pseudo-inverse.
  const bMax = maxAbs(b);
  for (const dead of [5, 77, 299]) for (let j = 0; j < n; j++) assert.ok(Math.abs(b[dead * n + j]) <= 1e-12 * bMax);
});
