/**
 * Batch sources over a model: batches of preprocessed inputs (from files, decoded images, arrays
 * in memory) run through the model once per batch; every method then scores that batch. Where
 * the inputs come from is the caller's (src/node reads .npy tensors and image files; a browser
 * decodes with its own decoder).
 */
import { NapoodError, shapeString } from '../errors.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { BatchSource, Field } from '../run/pipeline.js';
import type { FeatureBatch, FeatureMap, ModelAccess } from '../types.js';

/** A batch from a model run: the FeatureBatch plus the named extra layers. */
export interface ModelBatch extends FeatureBatch {
  readonly extra: Readonly<Record<string, { readonly data: Float32Array; readonly dims: readonly number[] }>>;
}

export interface ModelSource extends BatchSource {
  batches(fields?: readonly Field[], layers?: readonly string[]): AsyncIterable<ModelBatch>;
  close(): void;
  /** After a full pass: what to tell the user about skipped or converted inputs (undefined: nothing). */
  summary?(): string | undefined;
  /** Class names of the labels, when folders or lists gave them. */
  readonly classes?: readonly string[];
}

/** Preprocessed model input: n rows of the model's input shape, with labels and paths if known. */
export interface InputBatch {
  readonly data: Float32Array;
  readonly n: number;
  readonly labels?: Int32Array;
  readonly paths?: readonly string[];
}

export interface ModelSourceOptions {
  /** For messages: the argument and what it named. */
  readonly label: string;
  /** Rows (an upper bound when `mayShrink`). */
  readonly n: number;
  readonly mayShrink?: boolean;
  /** Whether the input batches carry labels. */
  readonly withLabels?: boolean;
  /** The input batches; called once per pass. */
  readonly inputs: () => AsyncIterable<InputBatch> | Iterable<InputBatch>;
  readonly access?: ModelAccess;
  readonly classes?: readonly string[];
  readonly summary?: () => string | undefined;
  readonly close?: () => void;
}

export function modelSource(model: OnnxClassifier, opts: ModelSourceOptions): ModelSource {
  const withLabels = Boolean(opts.withLabels);
  return {
    label: opts.label,
    n: opts.n,
    mayShrink: opts.mayShrink,
    model: opts.access,
    head: model.head,
    classes: opts.classes,
    has: (field: Field) => (field === 'labels' ? withLabels : field === 'pooled' ? model.info.pooled !== undefined : true),
    // The map before pooling is a layer too (nap[MAP+L3]), whether or not it was asked as an extra output.
    hasLayer: (name: string) => model.info.extraOutputs.includes(name) || name === model.info.featureMap,
    layerNames: [...new Set([...model.info.extraOutputs, model.info.featureMap])],
    async *batches(_fields?: readonly Field[], layers?: readonly string[]) {
      for await (const b of opts.inputs()) {
        const r = await model.run(b.data, b.n);
        const featureMaps = layers?.length
          ? { ...layerMaps(r.extra, layers.filter((l) => l !== model.info.featureMap || l in r.extra), r.n, model.info.inputLayout, model.info.file), ...(layers.includes(model.info.featureMap) && !(model.info.featureMap in r.extra) ? { [model.info.featureMap]: r.featureMap } : {}) }
          : undefined;
        yield {
          n: r.n, featureMap: r.featureMap, pooled: r.pooled, logits: r.logits, labels: withLabels ? b.labels : undefined, input: b.data, extra: r.extra, paths: b.paths,
          ...(featureMaps ? { featureMaps } : {}),
        };
      }
    },
    summary: opts.summary,
    close: () => opts.close?.(),
  };
}

/**
 * The maps of named layers from a run's extra outputs, NCHW: a 4-D output of a channels-first
 * model as it is, of a channels-last model transposed from [N, H, W, C].
 */
export function layerMaps(extra: ModelBatch['extra'], layers: readonly string[], n: number, layout: 'nchw' | 'nhwc', file: string): Record<string, FeatureMap> {
  const out: Record<string, FeatureMap> = {};
  for (const name of layers) {
    const t = extra[name];
    if (!t || t.dims.length !== 4 || t.dims[0] !== n) {
      throw new NapoodError(`layer ${JSON.stringify(name)}`, `a 4-D feature map [N, C, H, W] from ${file} (a convolutional layer)`, t ? `shape ${shapeString(t.dims)}` : 'no such output');
    }
    if (layout === 'nchw') {
      out[name] = { data: t.data, c: t.dims[1]!, h: t.dims[2]!, w: t.dims[3]! };
      continue;
    }
    const [, h, w, c] = t.dims as [number, number, number, number];
    const data = new Float32Array(t.data.length);
    for (let i = 0; i < n; i++) {
      const base = i * h * w * c;
      for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) data[base + ch * h * w + p] = t.data[base + p * c + ch]!;
    }
    out[name] = { data, c, h, w };
  }
  return out;
}

/** Check that a tensor shape is [N, ...the model's input dims] (NCHW, or NHWC for a channels-last model). */
export function checkInputShape(model: OnnxClassifier, shape: readonly number[], argument: string, where: string): number {
  const dims = model.info.inputDims;
  if (shape.length !== 4 || shape[1] !== dims[0] || shape[2] !== dims[1] || shape[3] !== dims[2]) {
    const layout = model.info.inputLayout === 'nhwc' ? 'NHWC (channels-last, as the model takes it)' : 'NCHW';
    throw new NapoodError(argument, `a preprocessed ${layout} tensor [N, ${dims.join(', ')}] for ${model.info.file}`, `shape ${shapeString(shape)} in ${where}`);
  }
  if (shape[0] === 0) throw new NapoodError(argument, 'at least one image', `an empty tensor in ${where}`);
  return shape[0];
}

/** Labels must be class indices of the model, or −1 for unknown. */
export function checkLabels(labels: ArrayLike<number>, classes: number, argument: string, where: string): Int32Array {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < -1 || v >= classes) throw new NapoodError(argument, `class indices in [0, ${classes}) (or −1 for none)`, `${v} at row ${i} of ${where}`);
  }
  return Int32Array.from(labels);
}

/** A preprocessed input tensor in memory (N rows of the model's input shape) as a source. */
export function arraySource(model: OnnxClassifier, data: Float32Array, shape: readonly number[], opts: { label?: string; labels?: ArrayLike<number>; batchSize?: number; access?: ModelAccess } = {}): ModelSource {
  const label = opts.label ?? 'input';
  const n = checkInputShape(model, shape, label, 'the array');
  const per = data.length / n;
  if (!Number.isInteger(per) || per !== shape[1] * shape[2] * shape[3]) throw new NapoodError(label, `${n * shape[1] * shape[2] * shape[3]} values for shape ${shapeString(shape)}`, `${data.length}`);
  const labels = opts.labels ? checkLabels(opts.labels, model.info.numClasses, `${label} labels`, 'the labels') : undefined;
  if (labels && labels.length !== n) throw new NapoodError(`${label} labels`, `${n} labels (one per row)`, `${labels.length}`);
  const batchSize = opts.batchSize ?? 32;
  return modelSource(model, {
    label, n, withLabels: labels !== undefined, access: opts.access,
    *inputs() {
      for (let start = 0; start < n; start += batchSize) {
        const count = Math.min(batchSize, n - start);
        yield { data: data.subarray(start * per, (start + count) * per), n: count, labels: labels?.subarray(start, start + count) };
      }
    },
  });
}
