/**
 * The paper's claims, each measured on the user's model and sets and stated as holding or not,
 * with the numbers and paired-bootstrap 95 % intervals (metrics/paired.ts: every score vector of
 * a claim is evaluated on the same resamples, so differences keep their correlation).
 *
 * Verdicts compare point estimates ("holds" when the measured numbers go the claimed way);
 * `significant` says whether the interval of the difference also excludes 0 in that direction.
 * The w optimum and the best layer are described on the test sets, never used to pick anything.
 */
import { pairedBootstrap, percentileInterval, proportionInterval } from '../../metrics/paired.js';
import { geometricBlend } from '../../methods/napx.js';
import type { ReportConfig } from './config.js';
import { parseMethodSpec, type MethodSpec } from '../../run/spec.js';
import { accuracyOf, scoresOf, specKey, type ModelScores } from './compute.js';
import type { ModelTables, ScoreRow } from './analyse.js';

export interface Claim {
  readonly id: string;
  /** The claim as the paper makes it. */
  readonly claim: string;
  readonly verdict: 'holds' | 'does not hold' | 'not measured';
  /** What was measured, in words with the numbers (percent). */
  readonly measured: string;
  /** The 95 % interval of the difference excludes 0 in the claimed direction (when intervals were computed). */
  readonly significant?: boolean;
  readonly numbers: Readonly<Record<string, unknown>>;
}

/** How the interval reads beside a verdict: it excludes 0 the claimed way, or the claim holds on the point estimates only. */
export function significanceNote(c: Pick<Claim, 'verdict' | 'significant'>): string {
  return c.significant === true ? '95 % CI excludes 0' : c.significant === false && c.verdict === 'holds' ? 'within the 95 % CI' : '';
}

const pct = (x: number) => x.toFixed(2);
const ci = (c: [number, number] | undefined) => (c ? ` [${pct(c[0])}, ${pct(c[1])}]` : '');

/** Register score vectors (ID + every OOD set) for one paired bootstrap; returns their indices. */
class Vectors {
  readonly id: Float64Array[] = [];
  readonly ood: Float64Array[][];
  constructor(sets: number) { this.ood = Array.from({ length: sets }, () => []); }
  add(id: Float64Array, ood: readonly Float64Array[]): number {
    this.id.push(id);
    ood.forEach((v, s) => this.ood[s].push(v));
    return this.id.length - 1;
  }
}

export function claimsOf(model: ModelScores, tables: ModelTables, layerRowsIn: readonly ScoreRow[], cfg: Pick<ReportConfig, 'bootstrap' | 'seed'>): Claim[] {
  const { plan } = model;
  const v = new Vectors(model.oods.length);
  const avgFpr = (row: { average: { fpr95: number; auroc: number } }) => row.average.fpr95;
  const rowOf = (report: { methods: { method: string; average: { fpr95: number; auroc: number } }[] }, text: string) => report.methods.find((m) => m.method === text)!;
  const vec = (spec: MethodSpec) => v.add(scoresOf(model, model.id, spec), model.oods.map((o) => scoresOf(model, o, spec)));
  const named = (text: string) => {
    const key = specKey(parseMethodSpec(text, 'methods'));
    return plan.all.find((s) => specKey(s) === key)!;
  };
  // Pairs (better, baseline) on the main table's averages.
  const pairs: { id: string; claim: string; a: string; b: string; ia: number; ib: number; fa: number; fb: number; ua: number; ub: number }[] = [];
  const napRow = rowOf(tables.napAlone, 'nap');
  const mspRow = rowOf(tables.napAlone, 'msp');
  pairs.push({ id: 'nap-vs-msp', claim: 'NAP alone beats MSP (average FPR95 lower)', a: 'nap', b: 'msp', ia: vec(named('nap')), ib: vec(named('msp')), fa: napRow.average.fpr95, fb: mspRow.average.fpr95, ua: napRow.average.auroc, ub: mspRow.average.auroc });
  const names: Record<string, string> = { 'nap-e': 'NAP-E beats Energy', 'nap-r': 'NAP-R beats ReAct', 'nap-a': 'NAP-A beats ASH-S', 'nap-d': 'NAP-D beats DICE (also measured)', 'nap-m': 'NAP-M beats MSP (also measured)' };
  for (const p of plan.napx) {
    const x = rowOf(tables.pairs, p.inner.text);
    const y = rowOf(tables.main, p.spec.text);
    pairs.push({ id: `${p.spec.name}-vs-x`, claim: `${names[p.spec.name]} on average FPR95 (w = ${p.spec.params.w}, the configured value)`, a: p.spec.text, b: p.inner.text, ia: vec(p.spec), ib: vec(p.inner), fa: y.average.fpr95, fb: x.average.fpr95, ua: y.average.auroc, ub: x.average.auroc });
  }
  // w sweeps: every grid point.
  const sweeps = plan.napx.map((p) => {
    const sweep = tables.wSweeps.find((s) => s.method === p.spec.text)!;
    const idx = sweep.grid.map((w) => {
      const sx = scoresOf(model, model.id, p.inner);
      const sn = scoresOf(model, model.id, p.nap);
      return v.add(geometricBlend(sx, sn, w).scores, model.oods.map((o) => geometricBlend(scoresOf(model, o, p.inner), scoresOf(model, o, p.nap), w).scores));
    });
    return { p, sweep, idx };
  });
  const layerIdx = layerRowsIn.filter((r) => !r.text.includes('+')).map((r) => v.add(r.id, r.ood));
  const reps = cfg.bootstrap > 0 ? pairedBootstrap({ id: v.id, ood: v.ood }, { iterations: cfg.bootstrap, seed: cfg.seed }) : undefined;
  const diffCI = (a: number, b: number, which: 'fpr95' | 'auroc' = 'fpr95'): [number, number] | undefined => {
    if (!reps) return undefined;
    const d = reps[which][a].map((x, r) => 100 * (x - reps[which][b][r]));
    return percentileInterval(d);
  };
  const claims: Claim[] = pairs.map((c) => {
    const d = c.fa - c.fb;
    const dci = diffCI(c.ia, c.ib);
    const uci = diffCI(c.ia, c.ib, 'auroc');
    return {
      id: c.id, claim: c.claim, verdict: d < 0 ? 'holds' : 'does not hold',
      measured: `average FPR95 ${c.a} ${pct(c.fa)} vs ${c.b} ${pct(c.fb)}: Δ ${pct(d)}${ci(dci)}; average AUROC ${pct(c.ua)} vs ${pct(c.ub)}: Δ ${pct(c.ua - c.ub)}${ci(uci)}`,
      ...(dci ? { significant: dci[1] < 0 } : {}),
      numbers: { compared: [c.a, c.b], fpr95: { [c.a]: c.fa, [c.b]: c.fb, delta: d, delta_ci: dci }, auroc: { [c.a]: c.ua, [c.b]: c.ub, delta: c.ua - c.ub, delta_ci: uci } },
    };
  });
  for (const { p, sweep, idx } of sweeps) {
    const curve = sweep.report.methods.map((m) => avgFpr(m));
    const g = sweep.grid;
    const claim = `the w curve of ${p.spec.name.toUpperCase()} is U-shaped with its optimum inside (0, 1) (average FPR95 over w)`;
    if (g[0] !== 0 || g[g.length - 1] !== 1) {
      claims.push({ id: `${p.spec.name}-w-curve`, claim, verdict: 'not measured', measured: 'the w grid does not contain both 0 and 1', numbers: { grid: g, fpr95: curve } });
      continue;
    }
    let best = 0;
    curve.forEach((x, k) => { if (x < curve[best]) best = k; });
    const ends = Math.min(curve[0], curve[curve.length - 1]);
    const interior = best > 0 && best < g.length - 1 && curve[best] < ends;
    let monotone = true;
    for (let k = 1; k <= best; k++) if (curve[k] > curve[k - 1]) monotone = false;
    for (let k = best + 1; k < g.length; k++) if (curve[k] < curve[k - 1]) monotone = false;
    let share: number | undefined;
    let gapCI: [number, number] | undefined;
    if (reps) {
      const f = reps.fpr95;
      let inside = 0;
      const gaps = new Float64Array(cfg.bootstrap);
      for (let r = 0; r < cfg.bootstrap; r++) {
        let b = 0;
        idx.forEach((i, k) => { if (f[i][r] < f[idx[b]][r]) b = k; });
        const e = Math.min(f[idx[0]][r], f[idx[idx.length - 1]][r]);
        if (b > 0 && b < idx.length - 1 && f[idx[b]][r] < e) inside++;
        gaps[r] = 100 * (f[idx[best]][r] - e);
      }
      share = inside / cfg.bootstrap;
      gapCI = percentileInterval(gaps);
    }
    claims.push({
      id: `${p.spec.name}-w-curve`, claim, verdict: interior ? 'holds' : 'does not hold',
      measured: `FPR95 at w = 0 (NAP) ${pct(curve[0])}, at w = 1 (${p.inner.text}) ${pct(curve[curve.length - 1])}, lowest ${pct(curve[best])} at w = ${g[best]} (descriptive, not used to choose w); optimum − better end ${pct(curve[best] - ends)}${ci(gapCI)}${share !== undefined ? `; optimum inside in ${(100 * share).toFixed(1)} % of bootstrap replicates` : ''}; ${!interior ? 'no optimum inside (0, 1)' : monotone ? 'falls then rises (U-shaped)' : 'optimum inside, but the curve is not monotone on both sides of it'}`,
      ...(gapCI ? { significant: interior && gapCI[1] < 0 } : {}),
      numbers: { grid: g, fpr95: curve, best_w: g[best], interior, monotone_sides: monotone, gap: curve[best] - ends, gap_ci: gapCI, interior_share: share },
    });
  }
  // Layers: the penultimate (the feature map before pooling) is the best single layer.
  const singles = tables.layers.methods.slice(0, layerIdx.length);
  if (singles.length < 2) {
    claims.push({ id: 'penultimate-best', claim: 'the penultimate layer is the best single layer for NAP', verdict: 'not measured', measured: 'only one layer', numbers: {} });
  } else {
    const f = singles.map((m) => m.average.fpr95);
    const last = f.length - 1;
    let other = 0;
    f.forEach((x, k) => { if (k !== last && x < f[other]) other = k; });
    // The penultimate is "the best" only when strictly below every other layer (a tie is not).
    const best = f[last] < f[other] ? last : other;
    const dci = diffCI(layerIdx[last], layerIdx[other]);
    let share: number | undefined;
    if (reps) {
      let wins = 0;
      for (let r = 0; r < cfg.bootstrap; r++) if (layerIdx.every((i, k) => k === last || reps.fpr95[layerIdx[last]][r] < reps.fpr95[i][r])) wins++;
      share = wins / cfg.bootstrap;
    }
    const info = tables.layerInfo;
    claims.push({
      id: 'penultimate-best', claim: 'the penultimate layer (before global pooling) is the best single layer for NAP (average FPR95)',
      verdict: best === last ? 'holds' : 'does not hold',
      measured: `${singles.map((m, k) => `${info[k].label} ${pct(f[k])}`).join(', ')} (${info[last].label} = penultimate); penultimate − best other (${info[other].label}) ${pct(f[last] - f[other])}${ci(dci)}${share !== undefined ? `; penultimate best in ${(100 * share).toFixed(1)} % of bootstrap replicates` : ''}`,
      ...(dci ? { significant: best === last && dci[1] < 0 } : {}),
      numbers: { fpr95: Object.fromEntries(singles.map((m, k) => [info[k].label, f[k]])), best: info[best].label, penultimate: info[last].label, other: info[other].label, delta: f[last] - f[other], delta_ci: dci, best_share: share },
    });
  }
  // ID accuracy: NAP-X classifies with X's logits.
  const base = model.id.run.accuracy;
  if (!base || base.total === 0 || plan.napx.length === 0) {
    claims.push({ id: 'accuracy-unchanged', claim: 'NAP-X leaves ID accuracy unchanged', verdict: 'not measured', measured: plan.napx.length ? 'the ID test set has no labels' : 'no NAP-X among the methods', numbers: {} });
  } else {
    const rows = plan.napx.map((p) => {
      const ax = accuracyOf(model, p.inner) ?? base;
      const ay = accuracyOf(model, p.spec) ?? base;
      const interval = (a: { correct: number; total: number }) => (cfg.bootstrap > 0 ? proportionInterval(a.correct, a.total, { iterations: cfg.bootstrap, seed: cfg.seed }).map((x) => 100 * x) as [number, number] : undefined);
      return { napx: p.spec.text, x: p.inner.text, acc: (100 * ay.correct) / ay.total, accX: (100 * ax.correct) / ax.total, ci: interval(ay), ciX: interval(ax) };
    });
    const same = rows.every((r) => r.acc === r.accX);
    const baseAcc = (100 * base.correct) / base.total;
    claims.push({
      id: 'accuracy-unchanged', claim: 'NAP-X leaves ID accuracy unchanged (NAP adds nothing to the classification: NAP-X predicts with X\'s logits)',
      verdict: same ? 'holds' : 'does not hold',
      measured: `${rows.map((r) => `${r.napx} ${pct(r.acc)}${ci(r.ci)} vs ${r.x} ${pct(r.accX)}`).join('; ')}; the unchanged model ${pct(baseAcc)}`,
      numbers: { model: baseAcc, rows },
    });
  }
  return claims;
}
