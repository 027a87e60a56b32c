/**
 * `napood report CONFIG --out DIR` as a library call: read and validate the config, run each
 * model's sets through it once (compute.ts), build the tables, claims and figures, render the
 * figures (SVG + PNG), the tables across models (claims matrix, tuned w), and write DIR:
 * index.html, report.json, tables/*.md|csv, figures/*.png|svg|vl.json.
 * Paths in the config are relative to the config file's folder.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NapoodError, describe } from '../errors.js';
import { parseReportConfigText, type ModelConfig, type ReportConfig } from '../app/report/config.js';
import { computeModel, type ModelInput, type SetInput } from '../app/report/compute.js';
import { analyseModel, type ModelResult } from '../app/report/analyse.js';
import { figureData } from '../app/report/figdata.js';
import { modelFigures } from '../app/report/figures.js';
import { reportHtml, type RenderedFigure } from '../app/report/html.js';
import { claimsSummary, type ClaimsSummary } from '../app/report/summary.js';
import { modelTableFiles, summaryTableFiles } from '../app/report/tables.js';
import { tuneCandidates, tunedWSummary, tunedWTable, type TunedWSummary } from '../app/report/tuned.js';
import { pseudoOodInfo, pseudoOodSource, type PseudoOodOptions } from '../app/pseudo-ood.js';
import { tuneMethods } from '../app/tune.js';
import type { CorruptionName } from '../images/corrupt/index.js';
import { openImageSources } from './detector.js';
import { nodeImageDecoder } from './images/loader.js';
import { parsePreprocess, parsePreprocessText, preprocessForModel, PRESETS, type Preprocess } from '../images/preprocess.js';
import { parseModel } from '../onnx/adapter.js';
import { analyseGraph } from '../onnx/graph.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { NapoodEvents } from '../types.js';
import { VERSION } from '../version.js';
import { loadOnnxModel } from './onnx.js';
import { RunSets } from './sets.js';
import { renderPng, renderSvg } from './report-render.js';
import { compactSvg } from './report-svg.js';
import { checkReportDir, writeReportDir } from './report-output.js';

export interface ReportOptions {
  readonly events?: NapoodEvents;
  /** onnxruntime intra-op threads. */
  readonly threads?: number;
  /** Overrides of the config (the CLI's --bootstrap, --seed). */
  readonly bootstrap?: number;
  readonly seed?: number;
  /** PNG scale (default 2). */
  readonly pngScale?: number;
}

export interface ReportSummary {
  readonly out: string;
  readonly files: readonly string[];
  readonly models: readonly ModelResult[];
  /** Across the models: the claims matrix, the tuned-w table (config `tune`). */
  readonly claimsSummary: ClaimsSummary;
  readonly tunedWSummary?: TunedWSummary;
}

function readText(p: string, field: string, what: string): string {
  try { return readFileSync(p, 'utf8'); } catch (e) { throw new NapoodError(field, `a readable ${what}`, `${describe(p)} (${(e as NodeJS.ErrnoException).code ?? e})`); }
}

/** Every input path of a config (resolved), for the output check. */
export function configInputs(cfg: ReportConfig, dir: string): string[] {
  const r = (p: string) => path.resolve(dir, p.replace(/^@/, ''));
  return cfg.models.flatMap((m) => [m.path, ...(typeof m.classes === 'string' ? [m.classes] : []), ...(typeof m.preprocess === 'string' && m.preprocess.endsWith('.json') ? [m.preprocess] : []),
    ...[m.sets.train, m.sets.id, ...m.sets.ood, m.tune?.val].flatMap((s) => (s ? [s.path, ...(s.labels ? [s.labels] : [])] : []))].map(r));
}

/** `text` with each of the model's input paths, resolved, replaced by the path as the config writes it. */
export function asWritten(text: string, m: ModelConfig, dir: string): string {
  const written = [m.path, ...(typeof m.classes === 'string' ? [m.classes] : []), ...(typeof m.preprocess === 'string' ? [m.preprocess] : []),
    ...[m.sets.train, m.sets.id, ...m.sets.ood, m.tune?.val].flatMap((s) => (s ? [s.path, ...(s.labels ? [s.labels] : [])] : []))]
    .map((p) => p.replace(/^@/, '').replace(/(.)[\/]+$/, '$1'));
  const pairs = [...new Set(written)].map((p) => [path.resolve(dir, p), p] as const).filter(([abs, p]) => abs !== p).sort((a, b) => b[0].length - a[0].length);
  let out = text;
  for (const [abs, p] of pairs) out = out.split(abs).join(p);
  return out;
}

function preprocessOf(m: ModelConfig, field: string, dir: string, model: OnnxClassifier): Preprocess {
  const { inputChw, inputLayout } = model.info;
  const base = preprocessForModel(inputChw, `${field}.path (model input)`, inputLayout);
  const p = m.preprocess;
  if (p === undefined) return base;
  if (typeof p === 'string' && p.toLowerCase().endsWith('.json')) return { ...parsePreprocessText(readText(path.resolve(dir, p), `${field}.preprocess`, 'preprocessing settings file (JSON)'), `${field}.preprocess`, base), layout: inputLayout };
  if (typeof p === 'string') {
    if (!Object.hasOwn(PRESETS, p)) throw new NapoodError(`${field}.preprocess`, `a preset among ${Object.keys(PRESETS).join(', ')}, a settings object or a .json settings file`, describe(p));
    return { ...PRESETS[p], layout: inputLayout };
  }
  return { ...parsePreprocess(p, `${field}.preprocess`, base), layout: inputLayout };
}

/** The extra layers: 4 evenly spaced candidate layers (the last is the feature map), or the configured names. */
export function chooseLayers(candidates: readonly string[], featureMap: string, wanted: ModelConfig['layers'], field: string): string[] {
  if (wanted !== 'auto') {
    for (const l of wanted) if (!candidates.includes(l) && l !== featureMap) throw new NapoodError(`${field}.layers`, `layer names among the model's candidates (napood inspect): ${candidates.slice(-4).map((c) => describe(c)).join(', ')}, …`, describe(l));
    return wanted.filter((l) => l !== featureMap);
  }
  const all = [...candidates.filter((c) => c !== featureMap), featureMap];
  if (all.length <= 4) return all.slice(0, -1);
  return [...new Set([0, 1, 2].map((k) => all[Math.round((k * (all.length - 1)) / 3)]))];
}

/**
 * Config `tune`: napood tune's w search (app/tune.ts) for each NAP-X on ID-val vs pseudo-OOD
 * (corrupted ID-val), the OOD test sets passed only as the oracle (research-only columns).
 */
async function tuneModel(m: ModelConfig, field: string, at: (p: string) => string, sets: RunSets, model: OnnxClassifier, input: ModelInput, scores: Awaited<ReturnType<typeof computeModel>>, batch: number, opts: ReportOptions) {
  const t = m.tune!;
  const candidates = tuneCandidates(scores.plan.napx).map((c) => c.spec);
  if (candidates.length === 0) {
    opts.events?.note?.(`${field}.tune: no NAP-X among the methods: nothing to tune`);
    return undefined;
  }
  const valPath = at(t.val.path);
  // Role 'ood': ID-val needs no labels (the search never reads them).
  const val = await sets.open(valPath, `${field}.tune.val`, 'ood');
  const images = await openImageSources([valPath], `${field}.tune.val`);
  try {
    const pseudo: PseudoOodOptions = {
      ...(t.corruptions ? { corruptions: t.corruptions as CorruptionName[] } : {}), ...(t.severities ? { severities: t.severities } : {}),
      ...(t.assignment ? { assignment: t.assignment } : {}), seed: t.seed ?? 0,
    };
    const pseudoOod = pseudoOodSource(model, images.sources, sets.preprocess!, {
      ...pseudo, decoder: nodeImageDecoder(), batchSize: batch, events: opts.events, label: `${m.name}: pseudo-OOD (corrupted ${t.val.path})`,
    });
    const oracle = input.oods.map((o) => ({ name: o.name, path: o.path, source: o.source }));
    const progress = opts.events?.progress;
    const r = await tuneMethods(candidates, {
      val, pseudoOod, train: input.train, head: input.head, oracle, valPath: t.val.path, pseudoOodInfo: pseudoOodInfo(images.sources.length, pseudo), model: m.path,
    }, { criterion: t.criterion ?? 'auroc', events: progress ? { progress: (d, n, what) => progress(d, n, `${m.name}: tune ${what}`) } : undefined });
    return r.report;
  } finally {
    images.close();
  }
}

async function runModel(cfg: ReportConfig, m: ModelConfig, index: number, dir: string, opts: ReportOptions): Promise<{ result: ModelResult; figures: RenderedFigure[]; files: Map<string, Uint8Array | string> }> {
  const field = `models[${index}]`;
  const file = path.resolve(dir, m.path);
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(readFileSync(file)); } catch (e) { throw new NapoodError(`${field}.path`, 'a readable ONNX model', `${describe(m.path)} (${(e as NodeJS.ErrnoException).code ?? e})`); }
  const analysis = analyseGraph(parseModel(bytes, m.path), { file: m.path });
  const layers = chooseLayers(analysis.candidateLayers, analysis.featureMap, m.layers, field);
  const model = await loadOnnxModel(bytes, { file: m.path, extraOutputs: layers, threads: opts.threads });
  const classes = typeof m.classes === 'string' ? readText(path.resolve(dir, m.classes), `${field}.classes`, 'class file').split(/\r?\n/).map((s) => s.trim()).filter(Boolean) : m.classes;
  const sets = new RunSets({
    model, preprocess: () => preprocessOf(m, field, dir, model), normalisationGiven: m.preprocess !== undefined, threads: opts.threads, classes, batchSize: cfg.batchSize,
    npyLabels: { ...(m.sets.train?.labels ? { train: path.resolve(dir, m.sets.train.labels) } : {}), ...(m.sets.id.labels ? { id: path.resolve(dir, m.sets.id.labels) } : {}) },
    events: opts.events, flags: { trainLabels: `${field}.sets.train.labels`, idLabels: `${field}.sets.id.labels`, labels: `${field}.sets labels`, fitSample: `${field}.sets.train` },
  });
  try {
    const at = (p: string) => (p.startsWith('@') ? `@${path.resolve(dir, p.slice(1))}` : path.resolve(dir, p));
    const train = m.sets.train ? await sets.open(at(m.sets.train.path), `${field}.sets.train`, 'train') : undefined;
    const id: SetInput = { name: 'id', path: m.sets.id.path, source: await sets.open(at(m.sets.id.path), `${field}.sets.id`, 'id') };
    const oods: SetInput[] = [];
    for (const [k, o] of m.sets.ood.entries()) {
      if (o.labels) opts.events?.note?.(`${field}.sets.ood[${k}].labels: OOD sets carry no labels; ignored`);
      oods.push({ name: o.name, path: o.path, group: o.group, source: await sets.open(at(o.path), `${field}.sets.ood[${k}] (${o.name})`, 'ood') });
    }
    for (const [k, combo] of (m.layerCombos ?? []).entries()) {
      for (const l of combo) if (l !== analysis.featureMap && !layers.includes(l)) throw new NapoodError(`${field}.layerCombos[${k}]`, `names among the report's layers (${[...layers, analysis.featureMap].map((x) => describe(x)).join(', ')})`, describe(l));
    }
    const input: ModelInput = { name: m.name, file: m.path, head: model.head, train, id, oods, layers, featureMap: analysis.featureMap, classes };
    let scores;
    try {
      scores = await computeModel(cfg, input, opts.events);
    } catch (e) {
      if (e instanceof NapoodError && e.argument === '--fit') throw e.renamed(`${field}.sets.train`);
      throw e;
    }
    sets.reportSummaries();
    for (const n of scores.notes) opts.events?.note?.(n);
    // What the report keeps names the inputs as the config does (relative to it), not by this
    // machine's absolute paths: the folder is made to be shared.
    scores = { ...scores, notes: scores.notes.map((n) => asWritten(n, m, dir)) };
    let result = analyseModel(scores, cfg, m.layerCombos, opts.events);
    if (m.tune) {
      const tune = await tuneModel(m, field, at, sets, model, input, scores, cfg.batchSize, opts);
      if (tune) result = { ...result, tunedW: tunedWTable(scores, result, tune, cfg) };
    }
    const specs = modelFigures(m.name, figureData(scores, result));
    const files = new Map<string, Uint8Array | string>();
    const figures: RenderedFigure[] = [];
    for (const [k, f] of specs.entries()) {
      opts.events?.progress?.(k, specs.length, `${m.name}: figures`);
      // The PNG from vega's SVG as drawn; index.html and the .svg file carry it made light (report-svg.ts).
      const raw = await renderSvg(f.spec, f.id);
      const svg = compactSvg(raw);
      figures.push({ ...f, svg });
      files.set(`figures/${f.id}.svg`, svg);
      files.set(`figures/${f.id}.png`, await renderPng(raw, opts.pngScale));
      files.set(`figures/${f.id}.vl.json`, JSON.stringify(f.spec) + '\n');
    }
    opts.events?.progress?.(specs.length, specs.length, `${m.name}: figures`);
    for (const t of modelTableFiles(result)) files.set(`tables/${t.name}`, t.text);
    return { result, figures, files };
  } finally {
    await sets.close();
    await model.release();
  }
}

/** Make the report of `configPath` in the folder `out` (written whole at the end, or not at all). */
export async function makeReport(configPath: string, out: string, opts: ReportOptions = {}): Promise<ReportSummary> {
  const parsed = parseReportConfigText(readText(configPath, 'CONFIG', 'report configuration (JSON)'), configPath);
  const cfg: ReportConfig = { ...parsed, ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) };
  const dir = path.dirname(path.resolve(configPath));
  checkReportDir(out, [...configInputs(cfg, dir), path.resolve(configPath)]);
  const files = new Map<string, Uint8Array | string>();
  const models: { result: ModelResult; figures: RenderedFigure[] }[] = [];
  for (const [i, m] of cfg.models.entries()) {
    const r = await runModel(cfg, m, i, dir, opts);
    for (const [k, v] of r.files) files.set(k, v);
    models.push({ result: r.result, figures: r.figures });
  }
  const summary = [
    `Methods: ${cfg.methods.map((s) => s.text).join(', ')} (NAP-X w: ${cfg.paperW === 'imagenet' ? 'the methods\' defaults, the paper\'s ImageNet values' : `the paper's ${cfg.paperW} values`}, unless set).`,
    `Sweeps: w ∈ {${cfg.sweeps.w.join(', ')}}; NAP p ∈ {${cfg.sweeps.nap.p.join(', ')}}, ε ∈ {${cfg.sweeps.nap.eps.join(', ')}}; percentile ∈ {${cfg.sweeps.percentile.join(', ')}}. Bootstrap: ${cfg.bootstrap} replicates, seed ${cfg.seed}.`,
  ];
  const across = { claimsSummary: claimsSummary(models.map((m) => m.result)), tunedWSummary: tunedWSummary(models.map((m) => m.result)) };
  for (const t of summaryTableFiles(across.claimsSummary, across.tunedWSummary)) files.set(`tables/${t.name}`, t.text);
  const json = {
    kind: 'napood-report', napood: VERSION, title: cfg.title, units: 'percent',
    config: { methods: cfg.methods.map((s) => s.text), paperW: cfg.paperW, sweeps: cfg.sweeps, bootstrap: cfg.bootstrap, seed: cfg.seed, figureSample: cfg.figureSample },
    definitions: {
      fpr95: 'share of OOD scores above t = sorted ID scores at round(0.05·n_ID) (ReAct / ASH code; ID positive)',
      openood_fpr_at_95_ood_recall: 'OpenOOD v1.5: share of ID flagged as OOD at the threshold that flags 95 % of the OOD set (sklearn roc_curve with OOD positive)',
      intervals: 'percentile bootstrap, stratified; claims use paired replicates (the same resamples for every score vector)',
    },
    claimsSummary: across.claimsSummary,
    ...(across.tunedWSummary ? { tunedWSummary: across.tunedWSummary } : {}),
    models: models.map((m) => ({ ...m.result, figures: m.figures.map((f) => ({ id: f.id, title: f.title, caption: f.caption, files: [`figures/${f.id}.png`, `figures/${f.id}.svg`, `figures/${f.id}.vl.json`] })) })),
  };
  files.set('report.json', JSON.stringify(json, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  files.set('index.html', reportHtml({ title: cfg.title, version: VERSION, summary, models, ...across }));
  writeReportDir(out, files);
  return { out, files: [...files.keys()].sort(), models: models.map((m) => m.result), ...across };
}
