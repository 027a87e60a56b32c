/**
 * `napood tune`: choose a method and its NAP-X weight w without OOD data (SPEC §3). The ID-val set
 * is scored against pseudo-OOD (corrupted copies of the same images: app/pseudo-ood.ts) once; the
 * search itself (tune-search.ts) only blends and ranks arrays.
 *
 * - Each candidate is split into components scored once per set: a NAP-X spec into its X
 *   (`nap-r:p=95` → `react:p=95`, fitted on ID-train) and NAP (`nap:eps=…,p=…`), a plain spec into
 *   itself. Components shared by candidates (energy in `energy` and `nap-e`) are scored once.
 * - NAP-X: w is tuned unless the spec gives it (`nap-e:w=0.4` keeps 0.4). With `napP` (a list of
 *   p values), NAP's exponent is tuned too (`nap_p` of NAP-X, `p` of `nap`) unless the spec gives
 *   it; the best (p, w) wins, the first p of the list winning ties.
 * - Candidates are ranked by the same criterion on ID-val vs pseudo-OOD; the first wins ties; the
 *   top one is chosen.
 * - Oracle sets (real OOD test sets, `--oracle-ood`) are scored only to report, separately, the w
 *   that would have been best on them (research only: they never influence the choice).
 *
 * Metrics in the report are percent (as `napood eval`).
 */
import { NAPX_INNER } from '../methods/napx.js';
export { NAPX_INNER };
import { NapoodError } from '../errors.js';
import { checkSources, fitMethods, scoreSource, type BatchSource, type FittedMethod, type ScoreRun } from '../run/pipeline.js';
import { parseMethodSpec, type MethodSpec } from '../run/spec.js';
import type { Head, NapoodEvents, Params } from '../types.js';
import { VERSION } from '../version.js';
import { nonFiniteOf } from './evaluate.js';
import {
  bestBy, blendEvaluator, criterionValue, pairMetrics, searchWeight, type Criterion, type PairMetrics, type SearchOptions, type WeightSearch,
} from './tune-search.js';


/** The candidates tried when none are named (those whose needs the sets cannot meet are left out). */
export const DEFAULT_TUNE_CANDIDATES = 'nap,energy,msp,maxlogit,react,ash-s,nap-e,nap-r,nap-a,nap-m';

export interface TuneOptions extends SearchOptions {
  /** 'auroc' (default; maximised) or 'fpr95' (minimised). */
  readonly criterion?: Criterion;
  /** NAP exponents p to try (default: none, p stays as given or its default 2). */
  readonly napP?: readonly number[];
  readonly events?: NapoodEvents;
}

export interface TuneSets {
  readonly val: BatchSource;
  readonly pseudoOod: BatchSource;
  /** ID-train, for candidates that fit statistics. */
  readonly train?: BatchSource;
  readonly head?: Head;
  /** Real OOD sets for the oracle columns (never used to choose). */
  readonly oracle?: readonly { readonly name: string; readonly source: BatchSource; readonly path?: string }[];
  /** For the report: what the user named, and how the pseudo-OOD set was made. */
  readonly valPath?: string;
  readonly pseudoOodInfo?: Readonly<Record<string, unknown>>;
  readonly model?: string;
}

export interface MetricsPct { auroc: number; fpr95: number }

export interface TuneCandidate {
  /** The spec as asked. */
  method: string;
  /** The spec chosen for it (tuned parameters written out). */
  tuned: string;
  params: Record<string, number>;
  /** Which parameters were tuned (w, nap_p, p). */
  tuned_params: string[];
  /** ID-val vs pseudo-OOD at the tuned parameters (percent). */
  auroc: number;
  fpr95: number;
  /** The same at the parameters as asked (e.g. the paper's w). */
  as_given: MetricsPct;
  /** The w search per NAP p tried (NAP-X with w tuned). */
  search?: { nap_p: number; grid: { w: number; auroc: number; fpr95: number }[]; grid_best: number; refined: number; interval: number[]; evaluations: number; improved: boolean }[];
  /** Oracle: per real OOD set, the metrics at the tuned parameters and (NAP-X) the w best on that set. */
  oracle?: Record<string, { at_tuned: MetricsPct; best_w?: number; at_best_w?: MetricsPct }>;
}

export interface TuneReport {
  napood: string;
  kind: 'tune';
  units: 'percent';
  criterion: Criterion;
  model?: string;
  val: { path: string; n: number };
  pseudo_ood: Record<string, unknown> & { n: number };
  search: { grid_step: number; tolerance: number; decimals: 4; nap_p?: number[] };
  /** In ranking order (best first). */
  candidates: TuneCandidate[];
  chosen: string;
  left_out?: { method: string; reason: string }[];
  oracle?: { note: string; sets: { name: string; path: string; n: number }[] };
}

export interface TuneResult {
  readonly report: TuneReport;
  /** The chosen method with its fitted state (ready to score or calibrate). */
  readonly chosen: FittedMethod;
  /** Every candidate, tuned, with its state, in ranking order. */
  readonly tuned: readonly FittedMethod[];
  /** Names of the ID-val rows, when the source knows them (for overlap checks). */
  readonly valNames?: readonly string[];
}

interface Plan {
  readonly spec: MethodSpec;
  readonly napx?: { readonly inner: string; readonly tuneW: boolean };
  /** Component key of X (NAP-X) or of the method itself (plain), per NAP p for `nap`. */
  readonly main?: string;
  /** NAP component key per p (NAP-X and plain nap). */
  readonly nap?: ReadonlyMap<number, string>;
  readonly pTuned: boolean;
  /** NAP p values searched (the list asked for when p is tuned, else the spec's p). */
  readonly ps: readonly number[];
  readonly asGivenP: number;
}

function specOf(name: string, params: Params, argument: string): MethodSpec {
  const body = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(',');
  return parseMethodSpec(body ? `${name}:${body}` : name, argument);
}

function pick(params: Params, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (k in params) out[k] = params[k]!;
  return out;
}

/** Split candidates into components (keyed by their normalised full spec text). */
function plan(candidates: readonly MethodSpec[], napP: readonly number[] | undefined, components: Map<string, MethodSpec>): Plan[] {
  const add = (s: MethodSpec): string => {
    if (!components.has(s.text)) components.set(s.text, s);
    return s.text;
  };
  return candidates.map((spec) => {
    if (spec.layers) throw new NapoodError('methods', 'candidates on the map before pooling (multi-layer specs are not tuned)', spec.text);
    const inner = NAPX_INNER[spec.name];
    const isNap = spec.name === 'nap';
    const pKey = isNap ? 'p' : 'nap_p';
    const pTuned = (inner !== undefined || isNap) && napP !== undefined && napP.length > 0 && !(pKey in spec.given);
    const asGivenP = spec.params[pKey] ?? 2;
    const ps = pTuned ? [...new Set(napP!)] : [asGivenP];
    if (inner === undefined && !isNap) return { spec, main: add(specOf(spec.name, spec.params, 'methods')), pTuned: false, ps, asGivenP };
    const eps = isNap ? spec.params.eps! : spec.params.nap_eps!;
    // The spec's own p is scored too, for the "as given" column.
    const nap = new Map([...ps, asGivenP].map((p) => [p, add(specOf('nap', { eps, p }, 'methods'))]));
    if (isNap) return { spec, nap, pTuned, ps, asGivenP };
    const innerDef = parseMethodSpec(inner, 'methods').def;
    const main = add(specOf(inner, pick(spec.params, Object.keys(innerDef.params)), 'methods'));
    return { spec, napx: { inner, tuneW: !('w' in spec.given) }, main, nap, pTuned, ps, asGivenP };
  });
}

const pct = (m: PairMetrics): MetricsPct => ({ auroc: 100 * m.auroc, fpr95: 100 * m.fpr95 });

type Scores = ReadonlyMap<string, Float64Array>;

function runScores(run: ScoreRun, label: string): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  if (run.n === 0) throw new NapoodError(label, 'at least one row to score', 'none');
  for (const r of run.results) {
    const bad = nonFiniteOf(r.scores);
    if (bad.count) throw new NapoodError(r.spec.text, 'finite scores', `${bad.count} of ${r.scores.length} NaN or ±Inf on ${label} (first at row ${bad.first})`);
    out.set(r.spec.text, r.scores);
  }
  return out;
}

interface Evaluated {
  readonly plan: Plan;
  readonly tuned: MethodSpec;
  readonly metrics: PairMetrics;
  readonly asGiven: PairMetrics;
  readonly searches: { p: number; s: WeightSearch }[];
  readonly p: number;
  readonly w?: number;
}

function evaluatePlan(pl: Plan, id: Scores, ood: Scores, criterion: Criterion, opts: SearchOptions): Evaluated {
  const pair = (key: string) => ({ id: id.get(key)!, ood: ood.get(key)! });
  const spec = pl.spec;
  if (!pl.nap) {
    const m = pairMetrics(id.get(pl.main!)!, ood.get(pl.main!)!);
    return { plan: pl, tuned: spec, metrics: m, asGiven: m, searches: [], p: NaN };
  }
  const ps = pl.ps;
  const tuned: Record<string, number> = { ...spec.given };
  if (!pl.napx) {
    const per = ps.map((p) => ({ p, m: pairMetrics(id.get(pl.nap!.get(p)!)!, ood.get(pl.nap!.get(p)!)!) }));
    const best = bestBy(per, (x) => x.m, criterion);
    if (pl.pTuned) tuned.p = best.p;
    const asGiven = pairMetrics(id.get(pl.nap.get(pl.asGivenP)!)!, ood.get(pl.nap.get(pl.asGivenP)!)!);
    return { plan: pl, tuned: specOf(spec.name, tuned, 'methods'), metrics: best.m, asGiven, searches: [], p: best.p };
  }
  const x = pair(pl.main!);
  const searches: { p: number; s: WeightSearch }[] = [];
  const per = ps.map((p) => {
    const evaluate = blendEvaluator(x, pair(pl.nap!.get(p)!));
    if (!pl.napx!.tuneW) return { p, w: spec.params.w!, m: evaluate(spec.params.w!) };
    const s = searchWeight(evaluate, criterion, opts);
    searches.push({ p, s });
    return { p, w: s.best.w, m: s.best };
  });
  const best = bestBy(per, (r) => r.m, criterion);
  tuned.w = best.w;
  if (pl.pTuned) tuned.nap_p = best.p;
  const asGiven = blendEvaluator(x, pair(pl.nap.get(pl.asGivenP)!))(spec.params.w!);
  return { plan: pl, tuned: specOf(spec.name, tuned, 'methods'), metrics: best.m, asGiven, searches, p: best.p, w: best.w };
}

/** Oracle columns of one candidate on one real OOD set (ID-val against it). */
function oracleOf(e: Evaluated, id: Scores, ood: Scores, criterion: Criterion, opts: SearchOptions): NonNullable<TuneCandidate['oracle']>[string] {
  const pl = e.plan;
  const pair = (key: string) => ({ id: id.get(key)!, ood: ood.get(key)! });
  if (!pl.nap) return { at_tuned: pct(pairMetrics(id.get(pl.main!)!, ood.get(pl.main!)!)) };
  const napKey = pl.nap.get(e.p)!;
  if (!pl.napx) return { at_tuned: pct(pairMetrics(id.get(napKey)!, ood.get(napKey)!)) };
  const evaluate = blendEvaluator(pair(pl.main!), pair(napKey));
  const s = searchWeight(evaluate, criterion, opts);
  return { at_tuned: pct(evaluate(e.w!)), best_w: s.best.w, at_best_w: pct(s.best) };
}

/** Score every set once, search, rank, choose (see the header). */
export async function tuneMethods(candidates: readonly MethodSpec[], sets: TuneSets, opts: TuneOptions = {}): Promise<TuneResult> {
  const criterion = opts.criterion ?? 'auroc';
  if (criterion !== 'auroc' && criterion !== 'fpr95') throw new NapoodError('criterion', 'auroc or fpr95', String(criterion));
  if (candidates.length === 0) throw new NapoodError('methods', 'at least one candidate method', 'none');
  for (const p of opts.napP ?? []) parseMethodSpec(`nap:p=${p}`, 'napP');
  const components = new Map<string, MethodSpec>();
  const plans = plan(candidates, opts.napP, components);
  const specs = [...components.values()];
  const oracle = sets.oracle ?? [];
  checkSources(specs, [sets.val, sets.pseudoOod, ...oracle.map((o) => o.source)], sets.train, sets.head);
  const progress = opts.events?.progress;
  const phase = (name: string) => (progress ? (done: number, total: number, what: string) => progress(done, total, `${name}: ${what}`) : undefined);
  const fitted = await fitMethods(specs, sets.train, sets.head, phase('fit'));
  const valRun = await scoreSource(fitted, sets.val, sets.head, phase('ID-val'));
  const oodRun = await scoreSource(fitted, sets.pseudoOod, sets.head, phase('pseudo-OOD'));
  const id = runScores(valRun, sets.val.label);
  const ood = runScores(oodRun, sets.pseudoOod.label);
  const search: SearchOptions = { gridStep: opts.gridStep, tolerance: opts.tolerance };
  const evaluated = plans.map((pl) => evaluatePlan(pl, id, ood, criterion, search));
  const ranked = evaluated.map((e, i) => ({ e, i })).sort((a, b) => criterionValue(b.e.metrics, criterion) - criterionValue(a.e.metrics, criterion) || a.i - b.i).map((r) => r.e);
  const oracleRuns: { name: string; path: string; n: number; scores: Scores }[] = [];
  for (const o of oracle) {
    const run = await scoreSource(fitted, o.source, sets.head, phase(`oracle ${o.name}`));
    oracleRuns.push({ name: o.name, path: o.path ?? o.source.label, n: run.n, scores: runScores(run, o.source.label) });
  }
  const stateOf = (e: Evaluated) => (e.tuned.def.fit ? fitted.find((f) => f.spec.text === e.plan.main)?.state : undefined);
  const tuned = ranked.map((e) => ({ spec: e.tuned, state: stateOf(e) }));
  const report: TuneReport = {
    napood: VERSION,
    kind: 'tune',
    units: 'percent',
    criterion,
    ...(sets.model ? { model: sets.model } : {}),
    val: { path: sets.valPath ?? sets.val.label, n: valRun.n },
    pseudo_ood: { ...(sets.pseudoOodInfo ?? { path: sets.pseudoOod.label }), n: oodRun.n },
    search: { grid_step: opts.gridStep ?? 0.05, tolerance: opts.tolerance ?? 1e-3, decimals: 4, ...(opts.napP?.length ? { nap_p: [...opts.napP] } : {}) },
    candidates: ranked.map((e) => candidateReport(e, oracleRuns, id, criterion, search)),
    chosen: ranked[0]!.tuned.text,
    ...(oracleRuns.length ? { oracle: { note: 'test OOD sets, for research only: never used to choose w or the method', sets: oracleRuns.map((o) => ({ name: o.name, path: o.path, n: o.n })) } } : {}),
  };
  return { report, chosen: tuned[0]!, tuned, ...(valRun.paths ? { valNames: valRun.paths } : {}) };
}

function candidateReport(e: Evaluated, oracleRuns: readonly { name: string; scores: Scores }[], id: Scores, criterion: Criterion, search: SearchOptions): TuneCandidate {
  const tunedParams: string[] = [];
  if (e.plan.napx?.tuneW) tunedParams.push('w');
  if (e.plan.pTuned) tunedParams.push(e.plan.napx ? 'nap_p' : 'p');
  const out: TuneCandidate = {
    method: e.plan.spec.text,
    tuned: e.tuned.text,
    params: { ...e.tuned.params },
    tuned_params: tunedParams,
    ...pct(e.metrics),
    as_given: pct(e.asGiven),
  };
  if (e.searches.length) {
    out.search = e.searches.map(({ p, s }) => ({
      nap_p: p,
      grid: s.grid.map((g) => ({ w: g.w, auroc: 100 * g.auroc, fpr95: 100 * g.fpr95 })),
      grid_best: s.gridBest.w,
      refined: s.best.w,
      interval: [...s.refinement.interval],
      evaluations: s.refinement.evaluations,
      improved: s.refinement.improved,
    }));
  }
  if (oracleRuns.length) out.oracle = Object.fromEntries(oracleRuns.map((o) => [o.name, oracleOf(e, id, o.scores, criterion, search)]));
  return out;
}

/** Leave out of the default candidates those the sets cannot score (no ID-train, no head, …). */
export function usableCandidates(candidates: readonly MethodSpec[], sources: readonly BatchSource[], train: BatchSource | undefined, head: Head | undefined): { usable: MethodSpec[]; leftOut: { method: string; reason: string }[] } {
  const usable: MethodSpec[] = [];
  const leftOut: { method: string; reason: string }[] = [];
  for (const c of candidates) {
    try {
      checkSources([c], sources, train, head);
      usable.push(c);
    } catch (e) {
      if (!(e instanceof NapoodError)) throw e;
      leftOut.push({ method: c.text, reason: e.message });
    }
  }
  if (usable.length === 0) throw new NapoodError('methods', 'at least one candidate the sets can score', `none: ${leftOut.map((l) => l.reason).join('; ')}`);
  return { usable, leftOut };
}
