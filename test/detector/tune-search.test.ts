/**
 * The w search (src/app/tune-search.ts) against a brute-force grid search written out here: the
 * grid, its best point (first in ascending w on ties), a refinement that is never worse, stays
 * within one step of the grid point and reports metrics equal to a fresh computation at its w.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendEvaluator, pairMetrics, roundWeight, searchWeight, weightGrid } from '../../src/app/tune-search.js';
import { Xoshiro128 } from '../../src/math/random.js';

/** sklearn-style AUROC by counting pairs (ties ½), and FPR95 as the ReAct code. */
function aurocRef(id: ArrayLike<number>, ood: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < id.length; i++) for (let j = 0; j < ood.length; j++) s += id[i]! > ood[j]! ? 1 : id[i] === ood[j] ? 0.5 : 0;
  return s / (id.length * ood.length);
}
function fpr95Ref(id: ArrayLike<number>, ood: ArrayLike<number>): number {
  const sorted = Array.from(id).sort((a, b) => a - b);
  const x = 0.05 * sorted.length;
  let r = Math.round(x);
  if (Math.abs(x - Math.trunc(x) - 0.5) < 1e-12 && r % 2 === 1) r -= 1;
  const t = sorted[r]!;
  return Array.from(ood).filter((v) => v > t).length / ood.length;
}
function blendRef(x: number, nap: number, w: number): number {
  if (w === 0) return nap;
  if (w === 1) return x;
  return x > 0 ? Math.exp(w * Math.log(x) + (1 - w) * Math.log(nap)) : 0;
}

function scores(n: number, seed: number, shift: number): { x: Float64Array; nap: Float64Array } {
  const rng = new Xoshiro128(seed);
  const x = new Float64Array(n);
  const nap = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = Math.max(-0.5, 2 + shift * 0.6 + rng.nextDouble() * 2 - 1);  // some S_X ≤ 0 when shifted down
    nap[i] = 1 + shift * 0.3 * rng.nextDouble() + rng.nextDouble();
  }
  return { x, nap };
}

test('the grid is 0, 0.05, …, 1 exactly (4 decimals)', () => {
  const g = weightGrid(0.05);
  assert.equal(g.length, 21);
  assert.deepEqual(g.slice(0, 4), [0, 0.05, 0.1, 0.15]);
  assert.equal(g[11], 0.55);
  assert.equal(g[20], 1);
  assert.deepEqual(weightGrid(0.3), [0, 0.3, 0.6, 0.9, 1]);
  assert.equal(roundWeight(0.123456), 0.1235);
  assert.throws(() => weightGrid(0), /grid step/);
});

test('grid search equals a brute-force search; refinement is never worse and its metrics are real', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const id = scores(60, seed, 1);
    const ood = scores(50, seed + 100, -1 + (seed % 3));
    for (const criterion of ['auroc', 'fpr95'] as const) {
      const evaluate = blendEvaluator({ id: id.x, ood: ood.x }, { id: id.nap, ood: ood.nap });
      const s = searchWeight(evaluate, criterion);
      // Brute force, written out.
      let bestW = -1;
      let bestV = -Infinity;
      for (let i = 0; i <= 20; i++) {
        const w = Math.round(i * 0.05 * 1e4) / 1e4;
        const a = Array.from(id.x, (x, r) => blendRef(x, id.nap[r]!, w));
        const b = Array.from(ood.x, (x, r) => blendRef(x, ood.nap[r]!, w));
        const auc = aurocRef(a, b);
        const fpr = fpr95Ref(a, b);
        assert.ok(Math.abs(s.grid[i]!.auroc - auc) < 1e-12 && Math.abs(s.grid[i]!.fpr95 - fpr) < 1e-12, `grid point ${w}`);
        const v = criterion === 'auroc' ? auc : -fpr;
        if (v > bestV) { bestV = v; bestW = w; }
      }
      assert.equal(s.gridBest.w, bestW, `seed ${seed} ${criterion}: grid best`);
      const value = (m: { auroc: number; fpr95: number }) => (criterion === 'auroc' ? m.auroc : -m.fpr95);
      assert.ok(value(s.best) >= value(s.gridBest), 'refinement never worse than the grid');
      assert.ok(Math.abs(s.best.w - s.gridBest.w) <= 0.05 + 1e-12, 'refinement stays within one step');
      assert.equal(s.refinement.improved, s.best.w !== s.gridBest.w);
      assert.equal(s.best.w, roundWeight(s.best.w), '4 decimals');
      const a = Array.from(id.x, (x, r) => blendRef(x, id.nap[r]!, s.best.w));
      const b = Array.from(ood.x, (x, r) => blendRef(x, ood.nap[r]!, s.best.w));
      assert.ok(Math.abs(s.best.auroc - aurocRef(a, b)) < 1e-12 && Math.abs(s.best.fpr95 - fpr95Ref(a, b)) < 1e-12, 'metrics at the tuned w');
    }
  }
});

test('golden-section refinement finds the peak of a smooth criterion between grid points', () => {
  // A fake evaluator whose "AUROC" peaks at w = 0.537: the grid gives 0.55, the refinement ≈ 0.537.
  const s = searchWeight((w) => ({ auroc: 1 - (w - 0.537) ** 2, fpr95: 0 }), 'auroc');
  assert.equal(s.gridBest.w, 0.55);
  assert.ok(Math.abs(s.best.w - 0.537) <= 1e-3, `refined ${s.best.w}`);
  assert.ok(s.refinement.improved && s.refinement.evaluations > 5 && s.refinement.evaluations < 30);
  const flat = searchWeight(() => ({ auroc: 0.5, fpr95: 0.5 }), 'auroc');
  assert.equal(flat.best.w, 0, 'ties: the first grid point, and no refined point replaces it');
  const none = searchWeight((w) => ({ auroc: 1 - (w - 0.537) ** 2, fpr95: 0 }), 'auroc', { tolerance: 0 });
  assert.equal(none.best.w, 0.55, 'tolerance 0: grid only');
  assert.deepEqual(pairMetrics(new Float64Array([2, 3]), new Float64Array([1, 2])), { auroc: 0.875, fpr95: 0 });
});
