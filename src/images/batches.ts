/**
 * Batches of preprocessed images (SPEC §4.2), runtime-neutral: images from any source (file
 * bytes with a decoder, decoded pixels, or a function fetching either) go through prepare.ts a
 * few at a time, in input order, into float32 batches in the model's layout. Node's loader
 * (src/node/images/loader.ts `imageBatches`) is this over file paths.
 *
 * Images that cannot be used are skipped: each is reported through `onSkip(name, reason)` and
 * counted, never dropped silently. No image left → NapoodError.
 */
import { NapoodError, describe } from '../errors.js';
import { ImageSkip, type ImageDecoder } from './decoder.js';
import { DEFAULT_MAX_PIXELS, prepareImageInput, type ImageInput, type PrepareImageOptions, type PreparedImage } from './prepare.js';
import { normalizeInto } from './pixels.js';
import { imageShape, type Preprocess } from './preprocess.js';

export interface ImageBatch {
  readonly n: number;
  /** n images, float32, in pp.layout. */
  readonly data: Float32Array;
  /** [n, C, H, W] (nchw) or [n, H, W, C] (nhwc). */
  readonly shape: readonly [number, number, number, number];
  /** −1 where unknown. */
  readonly labels: Int32Array;
  /** The images' names (file paths for files). */
  readonly paths: string[];
}

export interface LoadStats {
  /** Images in the batches so far. */
  loaded: number;
  /** Images skipped so far (each was reported through onSkip). */
  skipped: number;
  /** Images whose channel count was converted (grayscale → RGB or RGB → grayscale). */
  converted: number;
}

export interface SkippedImage {
  readonly path: string;
  readonly reason: string;
}

export interface LoadSummary extends LoadStats {
  readonly skippedImages: readonly SkippedImage[];
}

/** One image of a set. */
export interface ImageSource {
  /** The image's name in messages and in the batches' `paths`. */
  readonly name: string;
  /** Class index; −1 when unknown. */
  readonly label: number;
  /** File bytes or decoded pixels, or a function giving them (it may throw ImageSkip). */
  readonly image: ImageInput | (() => ImageInput | Promise<ImageInput>);
}

export interface BatchOptions extends Omit<PrepareImageOptions, 'name'> {
  /** Decodes file bytes (not needed when every image is decoded pixels). */
  readonly decoder?: ImageDecoder;
  /** Images per batch (default 32). */
  readonly batchSize?: number;
  /** Images prepared at the same time (default 4). */
  readonly concurrency?: number;
  /** Called for each skipped image, in input order (default: none; the summary lists them). */
  readonly onSkip?: (name: string, reason: string) => void;
  /** Called after each image (loaded or skipped): (done, total, "images"). */
  readonly onProgress?: (done: number, total: number, what: string) => void;
  /** Counters updated as batches are produced (for callers that iterate with for await). */
  readonly stats?: LoadStats;
  /** Argument name for messages (default "images"). */
  readonly argument?: string;
}

function positiveInteger(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new NapoodError(name, 'a positive integer', describe(v));
  return v;
}

type Outcome = { ok: PreparedImage } | { skip: ImageSkip } | { error: unknown };

/** One source through prepare.ts (its own fetch may throw ImageSkip too). */
async function prepareSource(src: ImageSource, pp: Preprocess, opts: BatchOptions): Promise<PreparedImage> {
  const input = typeof src.image === 'function' ? await src.image() : src.image;
  return prepareImageInput(input, pp, { ...opts, name: src.name });
}

/**
 * Batches of preprocessed images in input order. Returns (as the generator's return value) the
 * summary; `opts.stats` is kept up to date for `for await` callers.
 */
export async function* imageSourceBatches(sources: readonly ImageSource[], pp: Preprocess, opts: BatchOptions = {}): AsyncGenerator<ImageBatch, LoadSummary, undefined> {
  const argument = opts.argument ?? 'images';
  const batchSize = positiveInteger('batchSize', opts.batchSize, 32);
  const concurrency = positiveInteger('concurrency', opts.concurrency, 4);
  const maxPixels = positiveInteger('maxPixels', opts.maxPixels, DEFAULT_MAX_PIXELS);
  if (sources.length === 0) throw new NapoodError(argument, 'at least one image', 'none');
  const stats: LoadStats = opts.stats ?? { loaded: 0, skipped: 0, converted: 0 };
  const skippedImages: SkippedImage[] = [];
  const shape1 = imageShape(pp);
  const per = shape1[0] * shape1[1] * shape1[2];
  const prepOpts: BatchOptions = { ...opts, maxPixels };

  const queue: Promise<Outcome>[] = [];
  let next = 0;
  const launch = (): void => {
    while (queue.length < concurrency && next < sources.length) {
      const src = sources[next++]!;
      queue.push(
        prepareSource(src, pp, prepOpts).then(
          (ok): Outcome => ({ ok }),
          (e): Outcome => (e instanceof ImageSkip ? { skip: e } : { error: e }),
        ),
      );
    }
  };

  let data = new Float32Array(batchSize * per);
  let labels = new Int32Array(batchSize);
  let paths: string[] = [];
  const emit = (n: number): ImageBatch => {
    const batch: ImageBatch = {
      n,
      data: n === batchSize ? data : data.slice(0, n * per),
      shape: [n, ...shape1],
      labels: n === batchSize ? labels : labels.slice(0, n),
      paths,
    };
    data = new Float32Array(batchSize * per);
    labels = new Int32Array(batchSize);
    paths = [];
    return batch;
  };

  launch();
  for (let i = 0; i < sources.length; i++) {
    const outcome = await queue.shift()!;
    launch();
    const src = sources[i]!;
    if ('error' in outcome) throw outcome.error;
    if ('skip' in outcome) {
      stats.skipped++;
      skippedImages.push({ path: src.name, reason: outcome.skip.message });
      opts.onSkip?.(src.name, outcome.skip.message);
    } else {
      const n = paths.length;
      normalizeInto(outcome.ok.pixels, pp, data, n * per);
      labels[n] = src.label;
      paths.push(src.name);
      stats.loaded++;
      if (outcome.ok.sourceChannels !== pp.channels) stats.converted++;
      if (paths.length === batchSize) yield emit(batchSize);
    }
    opts.onProgress?.(i + 1, sources.length, 'images');
  }
  if (paths.length > 0) yield emit(paths.length);
  if (stats.loaded === 0) {
    const first = skippedImages[0]!;
    throw new NapoodError(argument, 'at least one image that can be decoded', `none: all ${sources.length} skipped (first: ${first.path}: ${first.reason})`);
  }
  return { ...stats, skippedImages };
}

/** Every batch of a generator in one tensor (convenience for small sets), with the summary. */
export async function concatBatches(it: AsyncGenerator<ImageBatch, LoadSummary, undefined>, pp: Preprocess): Promise<ImageBatch & { summary: LoadSummary }> {
  const parts: ImageBatch[] = [];
  let r = await it.next();
  while (!r.done) {
    parts.push(r.value);
    r = await it.next();
  }
  const summary = r.value;
  const shape1 = imageShape(pp);
  const per = shape1[0] * shape1[1] * shape1[2];
  const n = parts.reduce((s, b) => s + b.n, 0);
  const data = new Float32Array(n * per);
  const labels = new Int32Array(n);
  const paths: string[] = [];
  let k = 0;
  for (const b of parts) {
    data.set(b.data, k * per);
    labels.set(b.labels, k);
    paths.push(...b.paths);
    k += b.n;
  }
  return { n, data, shape: [n, ...shape1], labels, paths, summary };
}

/** All images of the sources in one tensor (convenience for small sets). */
export function loadImageSources(sources: readonly ImageSource[], pp: Preprocess, opts: BatchOptions = {}): Promise<ImageBatch & { summary: LoadSummary }> {
  return concatBatches(imageSourceBatches(sources, pp, opts), pp);
}
