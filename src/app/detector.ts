/**
 * A detector: one fitted method, its calibration and the model it belongs to, for checking new
 * inputs (`napood check`, `loadDetector(…).check(…)`):
 *
 *   const d = await openDetector(bytes, { classifier, modelSha256, decoder });
 *   const { rows } = await d.check(images);   // rows[i]: name, score, pValue, ood, predicted, confidence
 *
 * Each input gets its score (higher = more ID), its conformal p-value against the calibration
 * scores (app/calibrate.ts: p = (1 + #{s_i ≤ s}) / (n + 1)), a verdict — OOD iff p ≤ α, with α
 * the detector's (1 − its target TPR; the same as score < threshold) or one given at check time —
 * the predicted class (argmax of the unchanged logits) and its confidence (max softmax, T = 1).
 * Everything comes from one forward pass per batch.
 *
 * Refused: a model whose SHA-256 differs from the one the detector was made with, or whose input
 * (name, dims, layout) or feature sizes differ; a fitted state that does not fit the model's head.
 */
import { NapoodError } from '../errors.js';
import { argmaxRow } from '../metrics/accuracy.js';
import { maxSoftmaxRows } from '../methods/common.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import { checkSources, scoreSource, type BatchSource, type FittedMethod } from '../run/pipeline.js';
import type { MethodSpec } from '../run/spec.js';
import type { FeatureBatch, Head, MethodDefinition, NapoodEvents } from '../types.js';
import { arraySource, type ModelSource } from './model-source.js';
import { imageEntrySource, type ImageEntry } from './image-set.js';
import { modelAccess, type ModelAccessHandle } from './model-access.js';
import { checkLevel, conformalPValue, isOodAt, orderIndex } from './calibrate.js';
import { decodeDetector, encodeDetector, type DetectorData } from './detector-file.js';
import { nonFiniteOf } from './evaluate.js';
import { checkLoadedState } from './fit.js';
import type { ImageDecoder } from '../images/decoder.js';

export interface CheckRow {
  /** The input's name (path, or "#i"). */
  readonly name: string;
  readonly score: number;
  readonly pValue: number;
  readonly ood: boolean;
  /** Predicted class index (argmax of the logits) and its name when the detector knows class names. */
  readonly predicted: number;
  readonly className?: string;
  /** Max softmax probability of the logits. */
  readonly confidence: number;
}

export interface CheckResult {
  readonly method: string;
  /** The level used: OOD iff p ≤ alpha. */
  readonly alpha: number;
  /** The score threshold equivalent to alpha (ID iff score ≥ threshold). */
  readonly threshold: number;
  readonly rows: readonly CheckRow[];
  /** How many rows are OOD. */
  readonly ood: number;
}

export interface DetectorOptions {
  /** The model, for images and tensors (not needed to check feature dumps). */
  readonly classifier?: OnnxClassifier;
  /** SHA-256 (hex) of the model file: must equal the detector's. */
  readonly modelSha256?: string;
  readonly decoder?: ImageDecoder;
  readonly batchSize?: number;
  readonly threads?: number;
  readonly events?: NapoodEvents;
  /** The detector's name in messages (its path). */
  readonly what?: string;
}

function row(def: Omit<MethodDefinition, 'source' | 'summary' | 'params'>): MethodSpec {
  return { text: def.name, name: def.name, params: {}, given: {}, def: { ...def, source: 'napood', summary: def.name, params: {} } };
}

/** Predicted class and its max softmax probability, as two extra "methods" of the same pass. */
const PREDICTED = row({
  name: '__predicted', needs: ['logits'],
  score(b: FeatureBatch) { const out = new Float64Array(b.n); for (let i = 0; i < b.n; i++) out[i] = argmaxRow(b.logits!.data, b.logits!.k, i); return out; },
});
const CONFIDENCE = row({ name: '__confidence', needs: ['logits'], score: (b: FeatureBatch) => maxSoftmaxRows(b.logits!.data, b.n, b.logits!.k, 1) });

function short(sha: string): string {
  return `${sha.slice(0, 12)}…`;
}

/** The model must be the detector's: same file bytes (SHA-256) when both are known, same input and features. */
export function checkModelMatches(data: DetectorData, classifier: OnnxClassifier | undefined, modelSha256: string | undefined, what: string, events?: NapoodEvents): void {
  const want = data.model.sha256;
  const file = data.model.file ? ` (${data.model.file})` : '';
  if (want && modelSha256 && want !== modelSha256) {
    throw new NapoodError('--model', `the model the detector ${what} was made with: sha256 ${short(want)}${file}`, `a different model: sha256 ${short(modelSha256)}${classifier ? ` (${classifier.info.file})` : ''}`);
  }
  if (want && !modelSha256 && classifier) events?.warning?.(`${what}: the model's sha256 is not known here, so it cannot be checked against the detector's (${short(want)})`);
  if (!classifier) return;
  const info = classifier.info;
  const input = data.model.input;
  if (input && (input.name !== info.input.name || input.layout !== info.inputLayout || input.dims.join(',') !== info.inputDims.join(','))) {
    throw new NapoodError('--model', `a model with the detector's input "${input.name}" [${input.dims.join(', ')}] ${input.layout}`, `"${info.input.name}" [${info.inputDims.join(', ')}] ${info.inputLayout} in ${info.file}`);
  }
  const f = data.features;
  const fm = f.featureMap?.join(',');
  if ((fm && fm !== info.featureShape.join(',')) || (f.pooled !== undefined && f.pooled !== info.pooledDim) || (f.classes !== undefined && f.classes !== info.numClasses)) {
    throw new NapoodError('--model', `a model with the detector's features (map [${f.featureMap?.join(', ') ?? '?'}], pooled ${f.pooled ?? '?'}, ${f.classes ?? '?'} classes)`, `map [${info.featureShape.join(', ')}], pooled ${info.pooledDim ?? 'none'}, ${info.numClasses} classes in ${info.file}`);
  }
}

export class Detector {
  readonly data: DetectorData;
  private readonly access?: ModelAccessHandle;
  private readonly what: string;

  constructor(data: DetectorData, private readonly opts: DetectorOptions = {}) {
    this.data = data;
    this.what = opts.what ?? 'detector';
    checkModelMatches(data, opts.classifier, opts.modelSha256, this.what, opts.events);
    const classifier = opts.classifier;
    if (classifier) {
      if (!data.preprocess) throw new NapoodError(this.what, 'a detector made with a model (it holds the preprocessing of images)', 'a detector made from feature dumps: check dumps made with that model instead');
      this.access = modelAccess(classifier, data.preprocess.std, opts.threads);
      this.checkState(classifier.head, classifier.info.pooledDim);
    }
  }

  /** The method spec (with its tuned parameters). */
  get method(): string { return this.data.method.spec.text; }
  /** The score threshold at the detector's target TPR (ID iff score ≥ threshold). */
  get threshold(): number { return this.data.calibration.threshold; }
  /** The detector's level α = 1 − target TPR. */
  get alpha(): number { return this.data.calibration.alpha; }

  /** The fitted state must fit the head and features it will score with (checked when the head is known). */
  checkState(head: Head | undefined, channels: number | undefined): void {
    if (this.data.method.spec.def.fit) checkLoadedState(this.data.method.spec, this.data.method.state, { head, channels, stateArgument: `${this.what}: state` });
  }

  /** Conformal p-value of a score. */
  pValue(score: number): number {
    return conformalPValue(this.data.calibration.scores, score);
  }

  /** OOD at level alpha (default the detector's). */
  isOod(score: number, alpha = this.alpha): boolean {
    return isOodAt(this.data.calibration.scores, score, alpha);
  }

  /** Score and judge a set: images (bytes, pixels, named entries), a tensor source, a dump source. */
  async check(set: BatchSource | readonly ImageEntry[] | ImageEntry, opts: { alpha?: number; head?: Head } = {}): Promise<CheckResult> {
    const alpha = opts.alpha ?? this.alpha;
    if (opts.alpha !== undefined) checkLevel(alpha, this.data.calibration.n, 'alpha');
    let source: BatchSource;
    const isSource = !Array.isArray(set) && typeof (set as BatchSource).batches === 'function';
    if (isSource) source = set as BatchSource;
    else source = this.images(Array.isArray(set) ? set as readonly ImageEntry[] : [set as ImageEntry]);
    return this.checkSource(source, opts.head ?? this.opts.classifier?.head ?? source.head, alpha);
  }

  /** A preprocessed input tensor in memory ([N, …the model's input dims]) as a source to check. */
  tensor(data: Float32Array, shape: readonly number[], label = 'tensor'): ModelSource {
    if (!this.opts.classifier) throw new NapoodError('check', 'a model to run tensors through (loadDetector(path, { model }))', 'none');
    return arraySource(this.opts.classifier, data, shape, { label, batchSize: this.opts.batchSize, access: this.access });
  }

  /** A source over images (bytes, pixels, named entries) preprocessed as the detector says. */
  images(set: readonly ImageEntry[], label = 'images'): ModelSource {
    const classifier = this.opts.classifier;
    if (!classifier || !this.data.preprocess) throw new NapoodError('check', 'a model to run images through (loadDetector(path, { model }))', 'none');
    return imageEntrySource(classifier, set, this.data.preprocess, label, { decoder: this.opts.decoder, batchSize: this.opts.batchSize, access: this.access, events: this.opts.events });
  }

  private async checkSource(source: BatchSource, head: Head | undefined, alpha: number): Promise<CheckResult> {
    const method: FittedMethod = this.data.method;
    const methods: FittedMethod[] = [method, { spec: PREDICTED, state: undefined }, { spec: CONFIDENCE, state: undefined }];
    checkSources(methods.map((m) => m.spec), [source], undefined, head, true);
    this.checkState(head, (source as { channels?: number }).channels ?? this.data.features.pooled);
    const run = await scoreSource(methods, source, head, this.opts.events?.progress);
    const [scores, predicted, confidence] = run.results.map((r) => r.scores) as [Float64Array, Float64Array, Float64Array];
    const bad = nonFiniteOf(scores);
    if (bad.count) throw new NapoodError(method.spec.text, 'finite scores', `${bad.count} of ${scores.length} NaN or ±Inf on ${source.label} (first at row ${bad.first})`);
    const sorted = this.data.calibration.scores;
    const classes = this.data.classes;
    let ood = 0;
    const rows: CheckRow[] = Array.from(scores, (score, i) => {
      const isOod = isOodAt(sorted, score, alpha);
      if (isOod) ood++;
      const k = predicted[i]!;
      return {
        name: run.paths?.[i] ?? `#${i}`, score, pValue: conformalPValue(sorted, score), ood: isOod, predicted: k,
        ...(classes && k < classes.length ? { className: classes[k] } : {}), confidence: confidence[i]!,
      };
    });
    const note = (source as { summary?: () => string | undefined }).summary?.();
    if (note) this.opts.events?.note?.(note);
    const k = orderIndex(alpha, sorted.length);
    return { method: method.spec.text, alpha, threshold: sorted[k - 1]!, rows, ood };
  }

  /** The detector file's bytes. */
  bytes(): Promise<Uint8Array> {
    return encodeDetector(this.data);
  }

  /** Release the gradient models of the access (the classifier belongs to whoever opened it). */
  async release(): Promise<void> {
    await this.access?.release();
  }
}

/** A detector from a file's bytes (see detector-file.ts), bound to a model when one is given. */
export async function openDetector(bytes: Uint8Array, opts: DetectorOptions = {}): Promise<Detector> {
  return new Detector(await decodeDetector(bytes, opts.what ?? 'detector'), opts);
}
