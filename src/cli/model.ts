/**
 * ONNX models in the CLI: loading with the user's layer choices, `napood inspect`'s report, and
 * model-backed batch sources (a preprocessed NCHW tensor from .npy, or images). A forward pass runs
 * once per batch and every method scores that batch; multi-pass fits replay cached pooled
 * features instead of running the model again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NapoodError, describe, shapeString } from '../errors.js';
import type { BatchSource, Field } from '../run/pipeline.js';
import { openDump, type Dump } from '../node/io/dump.js';
import { readNpyHeader, npyTensor } from '../node/io/npy.js';
import { openSafetensorsStream } from '../node/io/safetensors-stream.js';
import { TensorReader, rowElements } from '../node/io/tensor.js';
import { expandImageInputs, imageBatches, sampleItems, type ImageList, type LoadStats, type Preprocess } from '../node/images/index.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import { loadOnnxModel } from '../node/onnx.js';

import type { FeatureBatch, ModelAccess } from '../types.js';

export interface ModelChoices {
  readonly featureLayer?: string;
  readonly layers?: readonly string[];
  readonly threads?: number;
  /** [C, H, W] for a model whose input dims are symbolic (--input-shape). */
  readonly inputShape?: readonly number[];
  /** [C, H, W] to use when the model's dims are symbolic and no inputShape was given (from the preprocessing flags). */
  readonly defaultInputShape?: readonly number[];
}

/** The adapter's option names as the CLI flags a user typed. */
const CLI_OPTION: Readonly<Record<string, string>> = { featureLayer: '--feature-layer', extraOutputs: '--layers', inputShape: '--input-shape' };

export async function openModel(path: string, choices: ModelChoices = {}): Promise<OnnxClassifier> {
  try {
    return await loadOnnxModel(path, {
      featureLayer: choices.featureLayer, extraOutputs: choices.layers, threads: choices.threads,
      inputShape: choices.inputShape, defaultInputShape: choices.defaultInputShape,
    });
  } catch (err) {
    const flag = err instanceof NapoodError ? CLI_OPTION[err.argument] : undefined;
    throw flag ? (err as NapoodError).renamed(flag) : err;
  }
}

/** `--input-shape C,H,W` (or CxHxW) as numbers; undefined when not given. */
export function parseInputShape(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(/[x×,]/).map((p) => p.trim());
  const dims = parts.map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1 || d > 65535)) {
    throw new NapoodError('--input-shape', 'three positive integers C,H,W (e.g. 3,224,224)', describe(text));
  }
  return dims;
}

/** A batch from a model run: the FeatureBatch plus the named extra layers. */
export interface ModelBatch extends FeatureBatch {
  readonly extra: Readonly<Record<string, { readonly data: Float32Array; readonly dims: readonly number[] }>>;
  readonly paths?: readonly string[];
}

export interface ModelSource extends BatchSource {
  batches(fields?: readonly Field[]): AsyncIterable<ModelBatch>;
  close(): void;
  /** After a full pass: a line for stderr about skipped or converted images (undefined: nothing to say). */
  summary?(): string | undefined;
  /** Class names of the labels, when folders or lists gave them. */
  readonly classes?: readonly string[];
}

function batchFromRun(r: Awaited<ReturnType<OnnxClassifier['run']>>, labels: Int32Array | undefined, input: Float32Array, paths?: readonly string[]): ModelBatch {
  return { n: r.n, featureMap: r.featureMap, pooled: r.pooled, logits: r.logits, labels, input, extra: r.extra, paths };
}

/** A preprocessed float32 tensor in a .npy file (NCHW, or NHWC for a channels-last model), run through the model in batches. */
export function inputArraySource(model: OnnxClassifier, npyPath: string, argument: string, batchSize: number, labelsPath?: string, access?: ModelAccess, labelsFlag = '--labels'): ModelSource {
  const t = npyTensor(readNpyHeader(npyPath, argument), 'input');
  const dims = model.info.inputDims;
  if (t.shape.length !== 4 || t.shape[1] !== dims[0] || t.shape[2] !== dims[1] || t.shape[3] !== dims[2]) {
    const layout = model.info.inputLayout === 'nhwc' ? 'NHWC (channels-last, as the model takes it)' : 'NCHW';
    throw new NapoodError(argument, `a preprocessed ${layout} tensor [N, ${dims.join(', ')}] for ${model.info.file}`, `shape ${shapeString(t.shape)} in ${npyPath}`);
  }
  const n = t.shape[0];
  if (n === 0) throw new NapoodError(argument, 'at least one image', `an empty tensor in ${npyPath}`);
  let labels: Int32Array | undefined;
  if (labelsPath) {
    const lt = npyTensor(readNpyHeader(labelsPath, labelsFlag), 'labels');
    if (lt.shape.length !== 1 || lt.shape[0] !== n) throw new NapoodError(labelsFlag, `a 1-D array of ${n} labels (one per row of ${npyPath})`, `shape ${shapeString(lt.shape)} in ${labelsPath}`);
    const reader = new TensorReader();
    const raw = reader.readFloat64(lt, 0, n);
    reader.close();
    const k = model.info.numClasses;
    const bad = raw.findIndex((v) => !Number.isInteger(v) || v < -1 || v >= k);
    if (bad >= 0) throw new NapoodError(labelsFlag, `class indices in [0, ${k}) (or −1 for none)`, `${raw[bad]} at row ${bad} of ${labelsPath}`);
    labels = Int32Array.from(raw);
  }
  const reader = new TensorReader();
  const per = rowElements(t);
  return {
    label: `${argument} ${npyPath}`,
    n,
    model: access,
    head: model.head,
    has: (field: Field) => field === 'labels' ? labels !== undefined : field === 'pooled' ? model.info.pooled !== undefined : true,
    async *batches() {
      for (let start = 0; start < n; start += batchSize) {
        const count = Math.min(batchSize, n - start);
        const input = reader.readFloat32(t, start, count, new Float32Array(count * per));
        const r = await model.run(input, count);
        yield batchFromRun(r, labels?.subarray(start, start + count), input);
      }
    },
    close: () => reader.close(),
  };
}

export interface ImageSetOptions {
  readonly pp: Preprocess;
  readonly batchSize: number;
  /** Labels from class folders / lists ('auto') or none (OOD sets). */
  readonly labels: 'auto' | 'none';
  /** Class names in label order, shared with another set (ID train and ID test). */
  readonly classes?: readonly string[];
  readonly channelMismatch?: 'convert' | 'skip' | 'error';
  readonly access?: ModelAccess;
  /** Images decoded at the same time (default 4). */
  readonly concurrency?: number;
  /** Use a seeded random sample of n of the images (--fit-sample). */
  readonly sample?: { readonly n: number; readonly seed: number; readonly flag: string };
}

/**
 * Image files, folders (a folder per class gives labels) or @lists, decoded and preprocessed in
 * batches and run through the model. Images that cannot be decoded are reported on stderr by
 * path and skipped (so `n` is an upper bound); `summary()` gives the count after a pass.
 */
export async function imageSetSource(model: OnnxClassifier, inputs: readonly string[], argument: string, opts: ImageSetOptions): Promise<ModelSource> {
  const expanded: ImageList = await expandImageInputs(inputs, { argument, labels: opts.labels, classes: opts.classes });
  const total = expanded.items.length;
  const list: ImageList = opts.sample ? { ...expanded, items: sampleItems(expanded.items, opts.sample.n, opts.sample.seed) } : expanded;
  const sampleNote = opts.sample && list.items.length < total ? `; a seeded sample of ${list.items.length} of ${total} images (${opts.sample.flag})` : '';
  const k = model.info.numClasses;
  if (list.classes.length > k) {
    throw new NapoodError(argument, `at most ${k} class folders or list labels (the model has ${k} classes)`, `${list.classes.length}: ${list.classes.slice(0, 5).join(', ')}${list.classes.length > 5 ? ', …' : ''}`);
  }
  const withLabels = list.items.some((it) => it.label >= 0);
  let stats: LoadStats | undefined;
  const ignoredNote = list.ignored.length ? `; ${list.ignored.length} non-image file${list.ignored.length === 1 ? '' : 's'} left out (first: ${list.ignored[0]})` : '';
  const unknownNote = list.unknownClasses.length ? `; class folders not among the ID classes, labelled −1: ${list.unknownClasses.join(', ')}` : '';
  return {
    label: `${argument} ${inputs.join(' ')}`,
    n: list.items.length,
    mayShrink: true,
    model: opts.access,
    head: model.head,
    classes: list.classes,
    has: (field: Field) => field === 'labels' ? withLabels : field === 'pooled' ? model.info.pooled !== undefined : true,
    async *batches() {
      stats = { loaded: 0, skipped: 0, converted: 0 };
      const gen = imageBatches(list.items, opts.pp, {
        batchSize: opts.batchSize,
        concurrency: opts.concurrency,
        channelMismatch: opts.channelMismatch,
        stats,
        argument,
        onSkip: (path, reason) => process.stderr.write(`napood: ${argument}: skipped ${path}: ${reason}\n`),
      });
      for await (const b of gen) {
        const r = await model.run(b.data, b.n);
        yield batchFromRun(r, withLabels ? b.labels : undefined, b.data, b.paths);
      }
    },
    summary() {
      if (!stats) return undefined;
      const parts: string[] = [];
      if (stats.skipped) parts.push(`${stats.skipped} of ${list.items.length} images skipped (listed above)`);
      if (stats.converted) parts.push(`${stats.converted} image${stats.converted === 1 ? '' : 's'} converted to ${opts.pp.channels === 1 ? 'grayscale' : 'RGB'} to match the model input`);
      const text = parts.join('; ') + sampleNote + ignoredNote + unknownNote;
      return text ? `napood: ${argument}: ${text.replace(/^; /, '')}` : undefined;
    },
    close: () => undefined,
  };
}

/**
 * A model source that can be read several times without running the model again: the first
 * pass runs the model and keeps the fields it yields (pooled features, logits, labels: not the
 * feature map) in a temporary .safetensors file; later passes read that file. Used for the ID-train
 * set, whose fits may make several passes (ReAct, ViM). Memory stays bounded; the file is removed
 * by close().
 */
export function replayableSource(inner: ModelSource): ModelSource {
  const CACHEABLE: readonly Field[] = ['pooled', 'logits', 'labels'];
  let dir: string | undefined;
  let cache: { dump: Dump; fields: readonly Field[] } | undefined;
  const cleanup = () => {
    cache?.dump.close();
    cache = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  return {
    ...inner,
    get n() { return cache ? cache.dump.n : inner.n; },
    async *batches(fields: readonly Field[] = ['featureMap', 'pooled', 'logits', 'labels']) {
      if (cache && fields.every((f) => cache!.fields.includes(f))) {
        for (const b of cache.dump.batches({ fields: [...fields] })) yield { ...b, extra: {} };
        return;
      }
      const keep = fields.filter((f) => CACHEABLE.includes(f) && inner.has(f));
      if (keep.length !== fields.length || cache) {
        // A feature map is too large to keep: run the model again.
        yield* inner.batches(fields);
        return;
      }
      dir = mkdtempSync(join(tmpdir(), 'napood-replay-'));
      const file = join(dir, 'train.safetensors');
      const writer = openSafetensorsStream(file, inner.label);
      let declared = false;
      let committed = false;
      try {
        for await (const b of inner.batches(fields)) {
          if (!declared) {
            if (keep.includes('pooled')) writer.addTensor('pooled', 'F32', [b.pooled!.c]);
            if (keep.includes('logits')) writer.addTensor('logits', 'F32', [b.logits!.k]);
            if (keep.includes('labels')) writer.addTensor('labels', 'I64', []);
            declared = true;
          }
          if (keep.includes('pooled')) writer.write('pooled', b.pooled!.data);
          if (keep.includes('logits')) writer.write('logits', b.logits!.data);
          if (keep.includes('labels')) writer.write('labels', b.labels ?? new Int32Array(b.n).fill(-1));
          yield b;
        }
        writer.commit({ napood: 'replay cache' });
        committed = true;
      } finally {
        // An error or an early stop by the consumer: no cache, nothing left behind.
        if (!committed) {
          writer.abort();
          cleanup();
        }
      }
      cache = { dump: openDump(file, { argument: inner.label }), fields: keep };
    },
    summary: () => inner.summary?.(),
    close: () => {
      cleanup();
      inner.close();
    },
  };
}
