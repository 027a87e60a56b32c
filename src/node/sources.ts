/**
 * Batch sources from files, for Node: feature dumps (.safetensors, .npy folders), a preprocessed
 * input tensor in a .npy file run through a model, image files / folders / @lists run through a
 * model, and the replay cache that lets multi-pass fits read a model's pooled features again
 * without running the model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NapoodError } from '../errors.js';
import { headDifference, type DumpShape } from '../app/checks.js';
import { checkInputShape, checkLabels, modelSource, type ModelSource } from '../app/model-source.js';
import { linearHead } from '../methods/common.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { BatchSource, Field } from '../run/pipeline.js';
import { DUMP_TENSORS, ROW_CACHEABLE, type FeatureBatch, type FeatureMap, type Head, type LinearHead, type ModelAccess, type NapoodEvents } from '../types.js';
import { sampleItems, type ImageList } from '../images/items.js';
import type { Preprocess } from '../images/preprocess.js';
import { imageSourceBatches, type ImageSource, type LoadStats } from '../images/batches.js';
import { expandImageInputs } from './images/sources.js';
import { openDump, loadHead, type Dump } from './io/dump.js';
import { readNpyHeader, npyTensor } from './io/npy.js';
import { openSafetensorsStream } from './io/safetensors-stream.js';
import { TensorReader, rowElements } from './io/tensor.js';
import { removeOnExit, removeStale } from './io/cleanup.js';

export interface DumpSource extends BatchSource, DumpShape {
  readonly dump: Dump;
  /**
   * The number of classes K of the run (the head's, the model's): labels must be below it. By
   * default the K of the dump's logits, if it has logits.
   */
  setClasses(k: number | undefined): void;
  close(): void;
}

/**
 * Labels of a batch must be class indices in [0, K) or −1 (unknown): a label ≥ K never matches
 * an argmax, so the ID accuracy would be 0 % without a word. `label` names the set.
 */
export function checkBatchLabels(labels: Int32Array | undefined, start: number, classes: number | undefined, label: string): void {
  if (!labels) return;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v < -1 || (classes !== undefined && v >= classes)) {
      throw new NapoodError(`${label} labels`, classes !== undefined ? `class indices in [0, ${classes}) (the ${classes} classes of the logits / head) or −1 for unknown` : 'class indices ≥ 0, or −1 for unknown', `${v} at row ${start + i}`);
    }
  }
}

export function openDumpSource(path: string, argument: string, rowsPerBatch?: number): DumpSource {
  const dump = openDump(path, { argument });
  const paths = imagePaths(dump);
  // Other named 4-D tensors of the dump (napood dump --layers) are layers for multi-layer NAP.
  const layerNames = [...dump.tensors.entries()]
    .filter(([name, t]) => !(DUMP_TENSORS as readonly string[]).includes(name) && t.shape.length === 4 && t.shape[0] === dump.n)
    .map(([name]) => name);
  let reader: TensorReader | undefined;
  const label = `${argument} ${path}`;
  let classes = dump.classes;
  const withLayers = (b: FeatureBatch & { start: number }, layers: readonly string[] | undefined): FeatureBatch => {
    const withPaths = paths ? { ...b, paths: paths.slice(b.start, b.start + b.n) } : b;
    if (!layers?.length) return withPaths;
    reader ??= new TensorReader();
    const featureMaps: Record<string, FeatureMap> = {};
    for (const name of layers) {
      const t = dump.tensors.get(name)!;
      featureMaps[name] = { data: reader.readFloat32(t, b.start, b.n), c: t.shape[1]!, h: t.shape[2]!, w: t.shape[3]! };
    }
    return { ...withPaths, featureMaps };
  };
  // The pipeline uses a batch before asking for the next: the feature map can be read straight
  // into the NAP kernel's staging buffer (no second copy of the map).
  function* batches(fields: readonly Field[], layers?: readonly string[]) {
    for (const b of dump.batches({ fields: [...fields], rowsPerBatch, stageFeatureMap: true })) {
      checkBatchLabels(b.labels, b.start, classes, label);
      yield withLayers(b, layers);
    }
  }
  return {
    label,
    n: dump.n,
    dump,
    channels: dump.channels,
    classes: dump.classes,
    featureMapShape: dump.featureMapShape,
    linearHead: () => dump.linearHead(),
    has: (field: Field) => dump.has(field),
    hasLayer: (name: string) => layerNames.includes(name),
    layerNames,
    batches,
    setClasses: (k) => { classes = k ?? dump.classes; },
    close: () => { reader?.close(); dump.close(); },
  };
}

/** The image path of every row, when the dump was made from images by `napood dump` (metadata "paths"). */
function imagePaths(dump: Dump): string[] | undefined {
  const text = dump.metadata.paths;
  if (text === undefined) return undefined;
  try {
    const paths: unknown = JSON.parse(text);
    return Array.isArray(paths) && paths.length === dump.n && paths.every((p) => typeof p === 'string') ? paths as string[] : undefined;
  } catch {
    return undefined;
  }
}

export function headFrom(linear: LinearHead | undefined): Head | undefined {
  return linear ? linearHead(linear.weight, linear.bias, linear.k, linear.c) : undefined;
}

/**
 * The head of a run over dumps: `headPath` (--head FILE) when given, else the head the dumps
 * carry. Dumps that carry different heads are refused (they come from different models); the
 * note says which set's head is used.
 */
export function resolveHead(headPath: string | undefined, sources: readonly (DumpSource | undefined)[], events?: NapoodEvents, headFlag = '--head'): Head | undefined {
  if (headPath) return headFrom(loadHead(headPath, headFlag));
  let chosen: { head: LinearHead; label: string } | undefined;
  for (const s of sources) {
    const h = s?.linearHead();
    if (!h || !s) continue;
    if (!chosen) { chosen = { head: h, label: s.label }; continue; }
    const diff = headDifference(h, chosen.head);
    if (diff > 1e-6) {
      throw new NapoodError(s.label, `the same classifier head as ${chosen.label} (head.weight, head.bias), or --head FILE to choose one`, diff === Infinity ? `a head of shape [${h.k}, ${h.c}] vs [${chosen.head.k}, ${chosen.head.c}]` : `a head that differs by up to ${diff.toExponential(2)} (relative)`);
    }
  }
  if (chosen && sources.some((s) => s && !s.linearHead())) events?.note?.(`head: head.weight / head.bias of ${chosen.label} (used for every set)`);
  return chosen ? headFrom(chosen.head) : undefined;
}

/** Labels of the n rows of a .npy set, from a 1-D .npy file: class indices of the model or −1. */
function readNpyLabels(labelsPath: string, labelsFlag: string, n: number, npyPath: string, classes: number): Int32Array {
  const lt = npyTensor(readNpyHeader(labelsPath, labelsFlag), 'labels');
  if (lt.shape.length !== 1 || lt.shape[0] !== n) throw new NapoodError(labelsFlag, `a 1-D array of ${n} labels (one per row of ${npyPath})`, `shape [${lt.shape.join(', ')}] in ${labelsPath}`);
  const reader = new TensorReader();
  try {
    return checkLabels(reader.readFloat64(lt, 0, n), classes, labelsFlag, labelsPath);
  } finally {
    reader.close();
  }
}

/** True when a .npy file holds uint8 values (images as pixels, not a preprocessed tensor). */
export function isUint8Npy(npyPath: string, argument: string): boolean {
  return npyTensor(readNpyHeader(npyPath, argument), 'input').dtype === 'uint8';
}

/**
 * Images stored as one uint8 .npy tensor — [N, H, W] (grey), [N, C, H, W] or [N, H, W, C] with
 * C = 1 or 3 — preprocessed as decoded images are (resize, channel conversion, normalisation) and
 * run through the model. Rows are read one image at a time.
 */
export function uint8ImagesSource(model: OnnxClassifier, npyPath: string, argument: string, opts: { pp: Preprocess; batchSize: number; labelsPath?: string; labelsFlag?: string; access?: ModelAccess; channelMismatch?: 'convert' | 'skip' | 'error'; events?: NapoodEvents }): ModelSource {
  const images = uint8NpyImages(npyPath, argument, opts.labelsPath ? { path: opts.labelsPath, flag: opts.labelsFlag ?? '--labels', classes: model.info.numClasses } : undefined);
  const n = images.sources.length;
  let skipped = 0;
  return modelSource(model, {
    label: `${argument} ${npyPath}`,
    n,
    mayShrink: true,
    withLabels: images.labelled,
    access: opts.access,
    inputs: () => imageSourceBatches(
      images.sources,
      opts.pp,
      { batchSize: opts.batchSize, argument, channelMismatch: opts.channelMismatch, onSkip: (name, reason) => { skipped++; opts.events?.note?.(`${argument}: skipped ${name}: ${reason}`); } },
    ),
    summary: () => (skipped ? `${argument}: ${skipped} of ${n} images skipped` : undefined),
    close: images.close,
  });
}

/**
 * The images of a uint8 .npy tensor — [N, H, W] (grey), [N, C, H, W] or [N, H, W, C] with
 * C = 1 or 3 — as image sources named `PATH[i]`, each read when its turn comes (one image at a
 * time). `close()` closes the file.
 */
export function uint8NpyImages(npyPath: string, argument: string, labelsFrom?: { path: string; flag: string; classes: number }): { sources: ImageSource[]; labelled: boolean; close: () => void } {
  const t = npyTensor(readNpyHeader(npyPath, argument), 'input');
  const s = t.shape;
  let layout: 'hw' | 'chw' | 'hwc';
  if (s.length === 3) layout = 'hw';
  else if (s.length === 4 && (s[1] === 1 || s[1] === 3) && !(s[3] === 1 || s[3] === 3)) layout = 'chw';
  else if (s.length === 4 && (s[3] === 1 || s[3] === 3) && !(s[1] === 1 || s[1] === 3)) layout = 'hwc';
  else throw new NapoodError(argument, 'uint8 images as [N, H, W], [N, C, H, W] or [N, H, W, C] with C = 1 or 3 (unambiguous)', `shape [${s.join(', ')}] in ${npyPath}`);
  const n = s[0]!;
  if (n === 0) throw new NapoodError(argument, 'at least one image', `an empty tensor in ${npyPath}`);
  const [h, w, c] = layout === 'hw' ? [s[1]!, s[2]!, 1] : layout === 'chw' ? [s[2]!, s[3]!, s[1]!] : [s[1]!, s[2]!, s[3]!];
  if (h * w > 40_000_000) throw new NapoodError(argument, 'images of at most 40 million pixels', `${h}×${w} in ${npyPath}`);
  const labels = labelsFrom ? readNpyLabels(labelsFrom.path, labelsFrom.flag, n, npyPath, labelsFrom.classes) : undefined;
  const reader = new TensorReader();
  const per = h * w * c;
  const pixelsOf = (i: number) => {
    const v = reader.readFloat32(t, i, 1, new Float32Array(per));
    const data = new Uint8Array(per);
    if (layout === 'chw' && c > 1) {
      for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) data[p * c + ch] = v[ch * h * w + p]!;
    } else {
      for (let p = 0; p < per; p++) data[p] = v[p]!;
    }
    return { width: w, height: h, data, channels: c as 1 | 3 };
  };
  const sources = Array.from({ length: n }, (_, i) => ({ name: `${npyPath}[${i}]`, label: labels ? labels[i]! : -1, image: () => pixelsOf(i) }));
  return { sources, labelled: labels !== undefined, close: () => reader.close() };
}

/** A preprocessed float32 tensor in a .npy file (NCHW, or NHWC for a channels-last model), run through the model in batches. */
export function inputArraySource(model: OnnxClassifier, npyPath: string, argument: string, batchSize: number, labelsPath?: string, access?: ModelAccess, labelsFlag = '--labels'): ModelSource {
  const t = npyTensor(readNpyHeader(npyPath, argument), 'input');
  const n = checkInputShape(model, t.shape, argument, npyPath);
  const labels = labelsPath ? readNpyLabels(labelsPath, labelsFlag, n, npyPath, model.info.numClasses) : undefined;
  const reader = new TensorReader();
  const per = rowElements(t);
  return modelSource(model, {
    label: `${argument} ${npyPath}`,
    n,
    withLabels: labels !== undefined,
    access,
    *inputs() {
      for (let start = 0; start < n; start += batchSize) {
        const count = Math.min(batchSize, n - start);
        yield { data: reader.readFloat32(t, start, count, new Float32Array(count * per)), n: count, labels: labels?.subarray(start, start + count) };
      }
    },
    close: () => reader.close(),
  });
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
  /** Skipped images are told here, one by one (`events.note`). */
  readonly events?: NapoodEvents;
}

/**
 * Image files, folders (a folder per class gives labels) or @lists, decoded and preprocessed in
 * batches and run through the model. Images that cannot be decoded are reported through
 * `events.note` by path and skipped (so `n` is an upper bound); `summary()` gives the count after a pass.
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
  return modelSource(model, {
    label: `${argument} ${inputs.join(' ')}`,
    n: list.items.length,
    mayShrink: true,
    withLabels,
    access: opts.access,
    classes: list.classes,
    async *inputs() {
      stats = { loaded: 0, skipped: 0, converted: 0 };
      // sharp is loaded only when images are read (a dump-only run never loads it).
      const { imageBatches } = await import('./images/loader.js');
      yield* imageBatches(list.items, opts.pp, {
        batchSize: opts.batchSize,
        concurrency: opts.concurrency,
        channelMismatch: opts.channelMismatch,
        stats,
        argument,
        onSkip: (path, reason) => opts.events?.note?.(`${argument}: skipped ${path}: ${reason}`),
      });
    },
    summary() {
      if (!stats) return undefined;
      const parts: string[] = [];
      if (stats.skipped) parts.push(`${stats.skipped} of ${list.items.length} images skipped (listed above)`);
      if (stats.converted) parts.push(`${stats.converted} image${stats.converted === 1 ? '' : 's'} converted to ${opts.pp.channels === 1 ? 'grayscale' : 'RGB'} to match the model input`);
      const text = parts.join('; ') + sampleNote + ignoredNote + unknownNote;
      return text ? `${argument}: ${text.replace(/^; /, '')}` : undefined;
    },
  });
}

/**
 * A model source that can be read several times without running the model again: the first
 * pass runs the model and keeps the fields it yields (pooled features, logits, labels: not the
 * feature map) in a temporary .safetensors file; later passes read that file. Used for the ID-train
 * set, whose fits may make several passes (ReAct, ViM). Memory stays bounded; the file is removed
 * by close().
 */
export function replayableSource(inner: ModelSource): ModelSource {
  let dir: string | undefined;
  let forget: (() => void) | undefined;
  let cache: { dump: Dump; fields: readonly Field[] } | undefined;
  const cleanup = () => {
    cache?.dump.close();
    cache = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    forget?.();
    dir = undefined;
  };
  return {
    ...inner,
    get n() { return cache ? cache.dump.n : inner.n; },
    async *batches(fields: readonly Field[] = ['featureMap', 'pooled', 'logits', 'labels'], layers?: readonly string[]) {
      if (layers?.length) {
        // Layer maps are as large as feature maps: never cached, the model runs again.
        yield* inner.batches(fields, layers);
        return;
      }
      if (cache && fields.every((f) => cache!.fields.includes(f))) {
        for (const b of cache.dump.batches({ fields: [...fields] })) yield { ...b, extra: {} };
        return;
      }
      const keep = fields.filter((f) => ROW_CACHEABLE.includes(f) && inner.has(f));
      if (keep.length !== fields.length || cache) {
        // A feature map is too large to keep: run the model again.
        yield* inner.batches(fields);
        return;
      }
      removeStale(tmpdir(), 'napood-replay-', /^(\d+)-[A-Za-z0-9]{6}$/);
      dir = mkdtempSync(join(tmpdir(), `napood-replay-${process.pid}-`));
      forget = removeOnExit(dir);
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
