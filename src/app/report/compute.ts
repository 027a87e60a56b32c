/**
 * The report's computation for one model: every method, sweep point and layer from ONE pass of
 * each set through the model.
 *
 * Planned specs (`planSpecs`): the configured methods; for each NAP-X its X (with X's parameters)
 * and its NAP (nap_eps / nap_p); MSP, Energy and NAP (Table 3, Figure 2); ReAct / ASH-S / DICE at
 * every percentile of the sweep (for those among the methods or inside a NAP-X). Specs that
 * compute the same thing (e.g. `react` and `react:p=90`) are scored once.
 *
 * The w sweep of a NAP-X never scores `nap-x:w=…` again: S_X and S_NAP come from the pass, and
 * each w is `geometricBlend(S_X, S_NAP, w)` — the very kernel `nap-x` runs, so the scores are
 * identical (the configured NAP-X is also scored directly and the report records the difference).
 * NAP's (p, ε) grid comes from per-channel max and mean read once (collect.ts); the layers from
 * the model's extra outputs of the same forward pass.
 */
import { NapoodError } from '../../errors.js';
import { geometricBlend, NAPX_INNER } from '../../methods/napx.js';
import { checkSources, fitMethods, scoreSource, type BatchSource, type FittedMethod, type ScoreRun } from '../../run/pipeline.js';
import { parseMethodSpec, type MethodSpec } from '../../run/spec.js';
import type { Head, NapoodEvents } from '../../types.js';
import type { ReportConfig } from './config.js';
import { sampleRows, SetCollector, tapSource, type GridPoint } from './collect.js';

export interface NapxPlan {
  readonly spec: MethodSpec;
  readonly inner: MethodSpec;
  readonly nap: MethodSpec;
}

export interface ScorePlan {
  /** The table rows: the configured methods. */
  readonly methods: readonly MethodSpec[];
  readonly napx: readonly NapxPlan[];
  /** Percentile sweeps: per method name, one spec per grid value. */
  readonly percentile: readonly { readonly method: string; readonly specs: readonly MethodSpec[] }[];
  /** Everything scored, each computation once. */
  readonly all: readonly MethodSpec[];
  readonly grid: readonly GridPoint[];
}

/** Same name and the same value of every parameter (defaults filled): the same scores. */
export function specKey(s: MethodSpec): string {
  return `${s.name}:${Object.keys(s.params).sort().map((k) => `${k}=${s.params[k]}`).join(',')}`;
}

function specText(name: string, params: Readonly<Record<string, number>>): string {
  const keys = Object.keys(params);
  return keys.length ? `${name}:${keys.map((k) => `${k}=${params[k]}`).join(',')}` : name;
}

export function planSpecs(cfg: Pick<ReportConfig, 'sweeps'>, methods: readonly MethodSpec[]): ScorePlan {
  const byKey = new Map<string, MethodSpec>();
  const add = (s: MethodSpec): MethodSpec => {
    const key = specKey(s);
    const had = byKey.get(key);
    if (had) return had;
    byKey.set(key, s);
    return s;
  };
  methods.forEach(add);
  for (const t of ['msp', 'energy', 'nap']) add(parseMethodSpec(t, 'methods'));
  const napx = methods.filter((s) => s.name in NAPX_INNER).map((s): NapxPlan => {
    const innerName = NAPX_INNER[s.name];
    const innerDef = parseMethodSpec(innerName, 'methods').def;
    const innerGiven: Record<string, number> = {};
    for (const k of Object.keys(innerDef.params)) if (k in s.given) innerGiven[k] = s.given[k];
    const napGiven: Record<string, number> = {};
    if ('nap_eps' in s.given) napGiven.eps = s.given.nap_eps;
    if ('nap_p' in s.given) napGiven.p = s.given.nap_p;
    return { spec: s, inner: add(parseMethodSpec(specText(innerName, innerGiven), 'methods')), nap: add(parseMethodSpec(specText('nap', napGiven), 'methods')) };
  });
  const swept = new Set<string>();
  for (const s of methods) if (['react', 'ash-s', 'dice'].includes(s.name)) swept.add(s.name);
  for (const p of napx) if (['react', 'ash-s', 'dice'].includes(p.inner.name)) swept.add(p.inner.name);
  const percentile = [...swept].map((method) => ({
    method,
    specs: cfg.sweeps.percentile.map((q) => add(parseMethodSpec(`${method}:p=${q}`, 'sweeps.percentile'))),
  }));
  const grid: GridPoint[] = [];
  for (const p of cfg.sweeps.nap.p) for (const eps of cfg.sweeps.nap.eps) grid.push({ p, eps });
  return { methods, napx, percentile, all: [...byKey.values()], grid };
}

export interface SetInput {
  readonly name: string;
  readonly path: string;
  readonly group?: 'near' | 'far';
  readonly source: BatchSource;
}

export interface ModelInput {
  readonly name: string;
  readonly file: string;
  readonly head?: Head;
  readonly train?: BatchSource;
  readonly id: SetInput;
  readonly oods: readonly SetInput[];
  /** Extra layers (tensor names, shallow to deep); the feature map is always the last layer. */
  readonly layers: readonly string[];
  readonly featureMap: string;
  readonly classes?: readonly string[];
}

export interface SetScores {
  readonly name: string;
  readonly path: string;
  readonly group?: 'near' | 'far';
  readonly run: ScoreRun;
  readonly collector: SetCollector;
}

export interface ModelScores {
  readonly input: ModelInput;
  readonly plan: ScorePlan;
  readonly fitted: readonly FittedMethod[];
  readonly id: SetScores;
  readonly oods: readonly SetScores[];
  /** Notes to pass on (methods left out, …). */
  readonly notes: readonly string[];
}

/** Drop configured methods the model cannot run (only for the default list; a given list is refused instead). */
export function applicableMethods(methods: readonly MethodSpec[], input: ModelInput, strict: boolean): { methods: MethodSpec[]; notes: string[] } {
  const notes: string[] = [];
  const kept = methods.filter((s) => {
    try {
      checkSources([s], [input.id.source, ...input.oods.map((o) => o.source)], input.train, input.head);
      return true;
    } catch (e) {
      if (strict || !(e instanceof NapoodError)) throw e;
      notes.push(`${input.name}: ${s.text} left out of the default methods (${e.message})`);
      return false;
    }
  });
  return { methods: kept, notes };
}

/** Fit and score every planned spec, with the collectors, one pass per set. */
export async function computeModel(cfg: ReportConfig, input: ModelInput, events?: NapoodEvents): Promise<ModelScores> {
  const { methods, notes } = applicableMethods(cfg.methods, input, !cfg.defaultMethods);
  const plan = planSpecs(cfg, methods);
  const sets = [input.id, ...input.oods];
  checkSources(plan.all, sets.map((s) => s.source), input.train, input.head);
  const progress = events?.progress;
  const phase = (what: string) => (progress ? (done: number, total: number, step: string) => progress(done, total, `${input.name}: ${what}${step === 'score' ? '' : ` ${step}`}`) : undefined);
  const fitted = await fitMethods(plan.all, input.train, input.head, phase('ID-train'));
  const scored: SetScores[] = [];
  for (const [k, s] of sets.entries()) {
    const collector = new SetCollector(s.source.label, s.source.n, plan.grid, input.layers, sampleRows(s.source.n, cfg.figureSample, (cfg.seed + k) >>> 0));
    const run = await scoreSource(fitted, tapSource(s.source, collector), input.head, phase(k === 0 ? 'ID' : s.name));
    collector.finish(run.n);
    scored.push({ name: s.name, path: s.path, group: s.group, run, collector });
  }
  return { input, plan, fitted, id: scored[0], oods: scored.slice(1), notes };
}

/** Scores of a planned spec on a set (looked up by what it computes). */
export function scoresOf(model: ModelScores, set: SetScores, spec: MethodSpec): Float64Array {
  const key = specKey(spec);
  const i = model.fitted.findIndex((f) => specKey(f.spec) === key);
  if (i < 0) throw new Error(`report: ${spec.text} was not scored`);
  return set.run.results[i].scores;
}

export function accuracyOf(model: ModelScores, spec: MethodSpec): { correct: number; total: number } | undefined {
  const key = specKey(spec);
  const i = model.fitted.findIndex((f) => specKey(f.spec) === key);
  return model.id.run.results[i]?.accuracy ?? (spec.def.changesLogits ? undefined : model.id.run.accuracy);
}

/** The w sweep of one NAP-X on one set: S_X and S_NAP of the pass, blended for each w. */
export function blendSweep(model: ModelScores, set: SetScores, plan: NapxPlan, ws: readonly number[]): { scores: Float64Array[]; nonPositiveX: number[] } {
  const sx = scoresOf(model, set, plan.inner);
  const snap = scoresOf(model, set, plan.nap);
  const out = ws.map((w) => geometricBlend(sx, snap, w));
  return { scores: out.map((o) => o.scores), nonPositiveX: out.map((o) => o.nonPositiveX) };
}
