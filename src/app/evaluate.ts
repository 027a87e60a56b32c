/**
 * Evaluation of fitted methods on an ID test set against OOD sets, into the report object that
 * `napood eval` prints (app/report.ts): per method and OOD set FPR95 / AUROC / AUPR-In /
 * AUPR-Out / detection error in percent (SPEC §1), bootstrap intervals, the average over sets,
 * ID accuracy, diagnostics.
 *
 * Scores that are not finite (NaN, ±Inf: a parameter at the edge of its range, a state holding
 * NaN, an input normalisation that overflowed) are never summarised as if they were valid: the
 * cells of that method and set (and its average) are NaN in the report, `report.nonFinite` says
 * how many scores of which method and set, and front ends fail after printing.
 */
import { bootstrapCI, evaluateBinary } from '../metrics/index.js';
import { scoreSource, type BatchSource, type FittedMethod, type MethodResult, type ScoreRun } from '../run/pipeline.js';
import type { Head, NapoodEvents } from '../types.js';
import { VERSION } from '../version.js';
import type { EvalReport, MethodReport, NonFiniteScores, SetMetrics } from './report.js';

export interface EvalSet {
  /** The OOD set's name in tables (e.g. "textures"). */
  readonly name: string;
  readonly source: BatchSource;
  /** What the user named (path, list), for the report. */
  readonly path?: string;
  /** A group of sets averaged together in tables (e.g. "near", "far"). */
  readonly group?: string;
}

export interface EvaluateOptions {
  readonly head?: Head;
  /** Bootstrap replicates for 95 % intervals of FPR95 and AUROC (default 1000; 0 = none). */
  readonly bootstrap?: number;
  readonly seed?: number;
  /** The model file, for the report. */
  readonly model?: string;
  readonly events?: NapoodEvents;
}

export interface Evaluation {
  readonly report: EvalReport;
  readonly idRun: ScoreRun;
  readonly oodRuns: readonly ScoreRun[];
}

const METRICS = ['fpr95', 'auroc', 'aupr_in', 'aupr_out', 'detection_error'] as const;

/** Count of NaN / ±Inf and the first such row. */
export function nonFiniteOf(scores: Float64Array): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) {
      if (count === 0) first = i;
      count++;
    }
  }
  return { count, first };
}

function invalidMetrics(): SetMetrics {
  return { fpr95: NaN, auroc: NaN, aupr_in: NaN, aupr_out: NaN, detection_error: NaN, invalid: true };
}

/** The metrics of one ID/OOD pair in percent (with bootstrap CIs when `bootstrap` > 0). */
export function setMetrics(id: Float64Array, ood: Float64Array, bootstrap: number, seed: number): SetMetrics {
  if (nonFiniteOf(id).count > 0 || nonFiniteOf(ood).count > 0) return invalidMetrics();
  const m = evaluateBinary(id, ood);
  const out: SetMetrics = {
    fpr95: 100 * m.fpr95, auroc: 100 * m.auroc, aupr_in: 100 * m.auprIn, aupr_out: 100 * m.auprOut, detection_error: 100 * m.detectionError,
  };
  if (bootstrap > 0) {
    const ci = bootstrapCI(id, ood, { iterations: bootstrap, seed });
    out.fpr95_ci = [100 * ci.fpr95[0], 100 * ci.fpr95[1]];
    out.auroc_ci = [100 * ci.auroc[0], 100 * ci.auroc[1]];
  }
  return out;
}

/** Mean of each metric over sets (NaN, and marked invalid, when one of them is). */
export function averageMetrics(sets: readonly SetMetrics[]): SetMetrics {
  if (sets.some((s) => s.invalid)) return invalidMetrics();
  const out = {} as SetMetrics;
  for (const key of METRICS) out[key] = sets.reduce((s, m) => s + m[key], 0) / sets.length;
  return out;
}

/** Score the ID set and every OOD set with every fitted method (one pass per set), then build the report. */
export async function evaluate(fitted: readonly FittedMethod[], id: { source: BatchSource; path?: string }, oods: readonly EvalSet[], opts: EvaluateOptions = {}): Promise<Evaluation> {
  const progress = opts.events?.progress;
  const phase = (name: string) => (progress ? (done: number, total: number) => progress(done, total, name) : undefined);
  const idRun = await scoreSource(fitted, id.source, opts.head, phase('ID'));
  const oodRuns: ScoreRun[] = [];
  for (const o of oods) oodRuns.push(await scoreSource(fitted, o.source, opts.head, phase(o.name)));
  const report = buildReport(fitted, { path: id.path ?? id.source.label, run: idRun }, oods.map((o, j) => ({ name: o.name, path: o.path ?? o.source.label, group: o.group, run: oodRuns[j] })), opts);
  reportDiagnostics(report, opts.events, opts.head?.k);
  return { report, idRun, oodRuns };
}

/** The report of runs already scored (the paper-report job reuses scores across sweeps). */
export function buildReport(
  fitted: readonly FittedMethod[],
  id: { path: string; run: ScoreRun },
  oods: readonly { name: string; path: string; group?: string; run: ScoreRun }[],
  opts: Pick<EvaluateOptions, 'bootstrap' | 'seed' | 'model'> = {},
): EvalReport {
  const bootstrap = opts.bootstrap ?? 1000;
  const seed = opts.seed ?? 0;
  const nonFinite: NonFiniteScores[] = [];
  const noteNonFinite = (method: string, set: string, r: MethodResult) => {
    const bad = nonFiniteOf(r.scores);
    if (bad.count) nonFinite.push({ method, set, count: bad.count, of: r.scores.length, first_row: bad.first });
  };
  const methods: MethodReport[] = fitted.map((f, i) => {
    const idResult = id.run.results[i];
    noteNonFinite(f.spec.text, 'id', idResult);
    const results: Record<string, SetMetrics> = {};
    const diagnostics: Record<string, Record<string, number>> = { id: idResult.diagnostics };
    oods.forEach((o) => {
      noteNonFinite(f.spec.text, o.name, o.run.results[i]);
      results[o.name] = setMetrics(idResult.scores, o.run.results[i].scores, bootstrap, seed);
      diagnostics[o.name] = o.run.results[i].diagnostics;
    });
    const groups: Record<string, SetMetrics> = {};
    for (const g of new Set(oods.map((o) => o.group).filter((g): g is string => g !== undefined))) {
      groups[g] = averageMetrics(oods.filter((o) => o.group === g).map((o) => results[o.name]));
    }
    const acc = idResult.accuracy;
    return {
      method: f.spec.text,
      params: { ...f.spec.params },
      ...(acc && acc.total > 0 ? { id_accuracy: (100 * acc.correct) / acc.total } : {}),
      results,
      ...(Object.keys(groups).length ? { groups } : {}),
      average: averageMetrics(Object.values(results)),
      diagnostics,
    };
  });
  const idAcc = id.run.accuracy;
  return {
    napood: VERSION,
    units: 'percent',
    ...(opts.model ? { model: opts.model } : {}),
    id: { path: id.path, n: id.run.n, ...(idAcc && idAcc.total > 0 ? { accuracy: (100 * idAcc.correct) / idAcc.total, labelled: idAcc.total } : {}) },
    ood: oods.map((o) => ({ name: o.name, path: o.path, n: o.run.n, ...(o.group !== undefined ? { group: o.group } : {}) })),
    ...(bootstrap > 0 ? { bootstrap: { iterations: bootstrap, seed, confidence: 0.95 } } : {}),
    methods,
    ...(nonFinite.length ? { nonFinite } : {}),
  };
}

/** Warnings a user should see after an evaluation (through events; the report holds the numbers too). */
export function reportDiagnostics(report: EvalReport, events: NapoodEvents | undefined, classes?: number): void {
  if (!events?.warning) return;
  for (const m of report.methods) {
    const neg = m.diagnostics.id?.negativeActivations;
    if (neg) events.warning(`--id: ${neg} negative activations in featureMap (${m.method} assumes post-ReLU maps)`);
    const nonPositive = m.diagnostics.id?.nonPositiveX;
    if (nonPositive) events.note?.(`--id: ${nonPositive} of ${report.id.n} samples had S_X ≤ 0 under ${m.method} and were scored 0`);
  }
  const acc = report.id.accuracy;
  const labelled = report.id.labelled ?? 0;
  if (acc !== undefined && classes !== undefined && classes >= 2 && labelled >= 10 * classes && acc < 150 / classes) {
    events.warning(`--id: ID accuracy ${acc.toFixed(2)}% is near chance (${(100 / classes).toFixed(2)}% for ${classes} classes): are the labels in the model's class order (class folders sorted as ImageFolder, or --classes FILE) and is the preprocessing the one the model was trained with?`);
  }
}
