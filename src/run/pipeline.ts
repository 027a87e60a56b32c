/**
 * The scoring pipeline: fit every method's ID statistics in shared streaming passes over the
 * ID-train data, then score a data set in one pass of batches, every method on the same batch
 * (a feature map is read, or a forward pass run, once per batch for all methods).
 *
 * Methods never see where batches come from: a BatchSource is a feature dump, an ONNX model over
 * images, or arrays in memory.
 */
import { NapoodError } from '../errors.js';
import { argmaxRow } from '../metrics/accuracy.js';
import type { BatchField, Diagnostics, FeatureBatch, Head, ModelAccess, Need } from '../types.js';
import type { MethodSpec } from './spec.js';

/** A batch field (one list for every part of napood: BATCH_FIELDS in types.ts). */
export type Field = BatchField;

export interface BatchSource {
  /** For messages: the argument and path, e.g. `--id run/id.safetensors`. */
  readonly label: string;
  /** Rows; an upper bound when `mayShrink` (images that cannot be decoded are skipped). */
  readonly n: number;
  readonly mayShrink?: boolean;
  has(field: Field): boolean;
  /**
   * Batches holding `fields`, and in `featureMaps` the maps of the named `layers` (multi-layer
   * NAP; only asked of sources whose hasLayer says yes).
   */
  batches(fields: readonly Field[], layers?: readonly string[]): Iterable<FeatureBatch> | AsyncIterable<FeatureBatch>;
  /** Whether the source can give the map of a named layer (a model's tensor, a dump's extra tensor). */
  hasLayer?(name: string): boolean;
  /** Names of the layers it can give, for messages. */
  readonly layerNames?: readonly string[];
  readonly head?: Head;
  /** The model batches come from, for methods that need it (ODIN's input gradient). */
  readonly model?: ModelAccess;
}

/** Everything a method needs with these parameters. */
export function needsOf(spec: MethodSpec): readonly Need[] {
  const needs = spec.def.needsFor ? spec.def.needsFor(spec.params) : spec.def.needs;
  // A spec on named layers reads those maps (layersOf), not the map before pooling.
  return spec.layers ? needs.filter((n) => n !== 'featureMap') : needs;
}

/** The named layers the specs read, each once; refused when the source cannot give one. */
export function layersOf(specs: readonly MethodSpec[], source: BatchSource): string[] {
  const layers = [...new Set(specs.flatMap((s) => s.layers ?? []))];
  for (const layer of layers) {
    if (!source.hasLayer?.(layer)) {
      const who = specs.filter((s) => s.layers?.includes(layer)).map((s) => s.text).join(', ');
      const known = source.layerNames?.length ? `; it has ${source.layerNames.slice(0, 6).map((l) => JSON.stringify(l)).join(', ')}${source.layerNames.length > 6 ? ', …' : ''}` : '';
      throw new NapoodError(source.label, `the feature map of layer ${JSON.stringify(layer)} (needed by ${who}; with a model: a tensor napood inspect lists among the layers for multi-layer NAP; in a dump: a tensor of that name, as napood dump --layers writes)`, `none of that name${known}`);
    }
  }
  return layers;
}

export interface FittedMethod {
  readonly spec: MethodSpec;
  readonly state: unknown;
}

export interface MethodResult {
  readonly spec: MethodSpec;
  readonly scores: Float64Array;
  readonly diagnostics: Diagnostics;
  /** Accuracy of the method's changed logits on labelled rows (methods that change logits). */
  readonly accuracy?: { correct: number; total: number };
}

export interface ScoreRun {
  /** Rows scored (fewer than source.n when a source skipped rows it could not read). */
  readonly n: number;
  readonly results: MethodResult[];
  /** Where each row came from, when the source knows (image paths). */
  readonly paths?: string[];
  /** Accuracy of the unchanged logits, when labels and logits are known. */
  readonly accuracy?: { correct: number; total: number };
}

export interface Progress {
  (done: number, total: number, what: string): void;
}

/** Which batch fields serve a need, given what the source has (logits can come from the head). */
function fieldsFor(needs: readonly Need[], source: BatchSource, head: Head | undefined, who: string): Field[] {
  const fields = new Set<Field>();
  for (const need of needs) {
    switch (need) {
      case 'featureMap':
        if (!source.has('featureMap')) throw new NapoodError(source.label, `a featureMap [N,C,H,W] (needed by ${who})`, 'no featureMap');
        fields.add('featureMap');
        break;
      case 'pooled':
        if (!source.has('pooled')) throw new NapoodError(source.label, `pooled features [N,C] or a featureMap (needed by ${who})`, 'neither');
        fields.add('pooled');
        break;
      case 'logits':
        if (source.has('logits')) fields.add('logits');
        else if (head && source.has('pooled')) fields.add('pooled');
        else throw new NapoodError(source.label, `logits [N,K], or pooled features and a head (needed by ${who})`, 'neither');
        break;
      case 'labels':
        if (!source.has('labels')) throw new NapoodError(source.label, `labels [N] (needed by ${who})`, 'no labels');
        fields.add('labels');
        break;
      case 'head':
        if (!head) throw new NapoodError(source.label, `a classifier head: head.weight [K,C] and head.bias [K] in the dump or --head FILE (needed by ${who})`, 'no head');
        break;
      case 'linearHead':
        if (!head?.linear) throw new NapoodError(source.label, `a single linear classifier head (needed by ${who})`, head ? 'a head that is not one linear layer' : 'no head');
        break;
      case 'model':
        if (!source.model) throw new NapoodError(who, 'model input to take input gradients from (--model with images or an NCHW .npy); on feature dumps use the temperature-only variant, e.g. odin:noise=0', `a feature dump (${source.label})`);
        break;
    }
  }
  return [...fields];
}

/**
 * Fail fast, before any fitting or scoring: every method's needs are met by every source (and
 * its fit needs by the training source).
 */
export function checkSources(specs: readonly MethodSpec[], sources: readonly BatchSource[], train: BatchSource | undefined, head: Head | undefined, alreadyFitted = false): void {
  for (const source of sources) layersOf(specs, source);
  for (const spec of specs) {
    for (const source of sources) fieldsFor(needsOf(spec), source, head, spec.text);
    if (spec.def.fit && !alreadyFitted) {
      if (!train) throw new NapoodError('--fit', `ID-train features to fit ${spec.text} (or --state FILE)`, 'no --fit dump');
      fieldsFor(spec.def.fitNeeds ?? needsOf(spec), train, head, `${spec.text} (fit)`);
    }
  }
}

/** Fill logits from the head when the source has none. */
async function completeBatch(batch: FeatureBatch, wantLogits: boolean, head: Head | undefined): Promise<FeatureBatch> {
  if (!wantLogits || batch.logits || !head || !batch.pooled) return batch;
  const logits = await head.forward(batch.pooled.data, batch.n);
  return { ...batch, logits: { data: logits, k: head.k } };
}

/** Fit the methods that have a fit step, sharing each pass over the training data. */
export async function fitMethods(specs: readonly MethodSpec[], train: BatchSource | undefined, head: Head | undefined, progress?: Progress): Promise<FittedMethod[]> {
  const fitters = specs.map((spec) => (spec.def.fit ? spec.def.fit(spec.params, head) : undefined));
  const active = specs.map((s, i) => ({ spec: s, fitter: fitters[i] })).filter((x) => x.fitter);
  if (active.length > 0) {
    if (!train) throw new NapoodError('--fit', `ID-train features to fit ${active.map((a) => a.spec.text).join(', ')}`, 'no --fit dump');
    const needs = new Set<Need>();
    for (const a of active) for (const need of a.spec.def.fitNeeds ?? needsOf(a.spec)) needs.add(need);
    const fields = fieldsFor([...needs], train, head, active.map((a) => a.spec.text).join(', '));
    const passes = Math.max(...active.map((a) => a.fitter!.passes));
    for (let pass = 0; pass < passes; pass++) {
      let done = 0;
      for await (const raw of train.batches(fields)) {
        const batch = await completeBatch(raw, needs.has('logits'), head);
        for (const a of active) if (pass < a.fitter!.passes) a.fitter!.update(batch, pass);
        done += batch.n;
        progress?.(done, train.n, `fit pass ${pass + 1}/${passes}`);
      }
      for (const a of active) if (pass < a.fitter!.passes) a.fitter!.endPass?.(pass);
    }
  }
  return specs.map((spec, i) => ({ spec, state: fitters[i] ? fitters[i]!.finish() : undefined }));
}

function countCorrect(logits: Float32Array, k: number, labels: Int32Array, acc: { correct: number; total: number }): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) continue;
    acc.total++;
    if (argmaxRow(logits, k, i) === labels[i]) acc.correct++;
  }
}

/** Score every row of `source` with every fitted method, one pass of batches. */
export async function scoreSource(methods: readonly FittedMethod[], source: BatchSource, head: Head | undefined, progress?: Progress): Promise<ScoreRun> {
  const needs = new Set<Need>();
  for (const m of methods) for (const need of needsOf(m.spec)) needs.add(need);
  const withLabels = source.has('labels');
  if (withLabels) needs.add('labels');
  const fields = fieldsFor([...needs], source, head, methods.map((m) => m.spec.text).join(', '));
  // Accuracy of the unchanged logits needs logits, from the source or the head.
  const baseAccuracy = withLabels && (source.has('logits') || (head && source.has('pooled')));
  if (baseAccuracy && !fields.includes('logits') && !fields.includes('pooled')) fields.push(source.has('logits') ? 'logits' : 'pooled');
  const wantLogits = needs.has('logits') || Boolean(baseAccuracy);
  const layers = layersOf(methods.map((m) => m.spec), source);

  const results = methods.map((m) => ({
    spec: m.spec as MethodSpec,
    scores: new Float64Array(source.n),
    diagnostics: {} as Diagnostics,
    accuracy: m.spec.def.changesLogits && withLabels ? { correct: 0, total: 0 } : undefined,
  }));
  const base = baseAccuracy ? { correct: 0, total: 0 } : undefined;
  const paths: string[] = [];
  let offset = 0;
  for await (const raw of (layers.length ? source.batches(fields, layers) : source.batches(fields))) {
    const batch = await completeBatch(raw, wantLogits, head);
    if (offset + batch.n > source.n) throw new NapoodError(source.label, `${source.n} rows`, 'more rows than announced');
    for (let i = 0; i < methods.length; i++) {
      const m = methods[i];
      const r = results[i];
      const labels = batch.labels;
      const accuracy = r.accuracy;
      const onLogits = accuracy && labels ? (logits: Float32Array) => countCorrect(logits, head!.k, labels, accuracy) : undefined;
      const ctx = { params: m.spec.params, state: m.state, head, diagnostics: r.diagnostics, onLogits, model: source.model, layers: m.spec.layers };
      const scores = await m.spec.def.score(batch, ctx);
      if (scores.length !== batch.n) throw new Error(`${m.spec.text} returned ${scores.length} scores for ${batch.n} rows`);
      r.scores.set(scores, offset);
    }
    if (base && batch.labels && batch.logits) countCorrect(batch.logits.data, batch.logits.k, batch.labels, base);
    const batchPaths = batch.paths;
    if (batchPaths) paths.push(...batchPaths);
    offset += batch.n;
    progress?.(offset, source.n, 'score');
  }
  if (offset !== source.n) {
    if (!source.mayShrink) throw new NapoodError(source.label, `${source.n} rows`, `${offset} rows`);
    for (const r of results) r.scores = r.scores.slice(0, offset);
  }
  return { n: offset, results, accuracy: base, ...(paths.length === offset ? { paths } : {}) };
}
