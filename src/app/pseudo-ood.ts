/**
 * Pseudo-OOD data for `napood tune` (SPEC §3): corrupted copies of the ID-val images, run
 * through the model as a batch source.
 *
 * Each image is decoded, resized and cropped to the model's input size as for scoring
 * (prepare.ts), then corrupted (images/corrupt: CIFAR-10-C parameters for inputs of side ≤ 64,
 * ImageNet-C's above — as ImageNet-C corrupts 224 × 224 centre crops and CIFAR-10-C 32 × 32
 * images), then normalised. Defaults: the 15 benchmark corruptions at severities 3–5 and one
 * random (corruption, severity) per image (`assignment: 'random'`, seeded: a pseudo-OOD set as
 * large as ID-val, one forward pass); `'all'` makes every image × corruption × severity
 * (45 copies per image with the defaults). Severities 1–2 are left out by default because they
 * leave many images close to the originals (a pseudo-OOD set that is half ID).
 *
 * Runtime-neutral: images come as ImageSources (bytes with a decoder, or decoded pixels).
 */
import { NapoodError } from '../errors.js';
import { ImageSkip, type ImageDecoder } from '../images/decoder.js';
import type { ImageSource } from '../images/batches.js';
import { prepareImageInput, type PreparedImage } from '../images/prepare.js';
import { normalizeInto } from '../images/pixels.js';
import { imageShape, type Preprocess } from '../images/preprocess.js';
import { BENCHMARK_CORRUPTIONS, corruptImage, corruptionPlan, type CorruptionName, type ParamSet } from '../images/corrupt/index.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { ModelAccess, NapoodEvents } from '../types.js';
import { modelSource, type InputBatch, type ModelSource } from './model-source.js';

export const DEFAULT_PSEUDO_SEVERITIES: readonly number[] = Object.freeze([3, 4, 5]);

export interface PseudoOodOptions {
  /** Corruptions (default: the 15 benchmark ones). */
  readonly corruptions?: readonly CorruptionName[];
  /** Severities (default 3, 4, 5). */
  readonly severities?: readonly number[];
  /** 'random' (default): one (corruption, severity) per image; 'all': every combination. */
  readonly assignment?: 'random' | 'all';
  /** Seed of the assignment and of the corruptions' noise (default 0). */
  readonly seed?: number;
  /** 'auto' (default), 'cifar' or 'imagenet' corruption parameters. */
  readonly params?: ParamSet | 'auto';
  readonly decoder?: ImageDecoder;
  readonly batchSize?: number;
  readonly channelMismatch?: 'convert' | 'skip' | 'error';
  readonly access?: ModelAccess;
  readonly events?: NapoodEvents;
  /** The set's name in messages (default "pseudo-OOD"). */
  readonly label?: string;
}

/** How the pseudo-OOD set was made, for reports and detector files. */
export function pseudoOodInfo(n: number, opts: PseudoOodOptions): Record<string, unknown> {
  return {
    made_from: 'ID-val images, corrupted after resizing to the model input',
    images: n,
    corruptions: [...(opts.corruptions ?? BENCHMARK_CORRUPTIONS)],
    severities: [...(opts.severities ?? DEFAULT_PSEUDO_SEVERITIES)],
    assignment: opts.assignment ?? 'random',
    seed: opts.seed ?? 0,
    params: opts.params ?? 'auto',
  };
}

/** Corrupted copies of `sources` (see the header) as a model source. */
export function pseudoOodSource(model: OnnxClassifier, sources: readonly ImageSource[], pp: Preprocess, opts: PseudoOodOptions = {}): ModelSource {
  const label = opts.label ?? 'pseudo-OOD';
  if (sources.length === 0) throw new NapoodError(label, 'at least one ID-val image to corrupt', 'none');
  const assignment = opts.assignment ?? 'random';
  if (assignment !== 'random' && assignment !== 'all') throw new NapoodError('assignment', "'random' or 'all'", String(assignment));
  const seed = opts.seed ?? 0;
  const plan = corruptionPlan(sources.length, { corruptions: opts.corruptions, severities: opts.severities ?? DEFAULT_PSEUDO_SEVERITIES, seed, assignment });
  const bySource: { corruption: CorruptionName; severity: number }[][] = sources.map(() => []);
  for (const job of plan) bySource[job.source]!.push(job);
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new NapoodError('batchSize', 'a positive integer', String(batchSize));
  const [a, b, c] = imageShape(pp);
  const per = a * b * c;
  let skipped = 0;

  async function* inputs(): AsyncGenerator<InputBatch> {
    skipped = 0;
    let loaded = 0;
    let first: string | undefined;
    const prepare = (src: ImageSource): Promise<PreparedImage | ImageSkip> => (async () => {
      const input = typeof src.image === 'function' ? await src.image() : src.image;
      return prepareImageInput(input, pp, { decoder: opts.decoder, channelMismatch: opts.channelMismatch, name: src.name });
    })().catch((e) => { if (e instanceof ImageSkip) return e; throw e; });
    const queue: Promise<PreparedImage | ImageSkip>[] = [];
    let next = 0;
    const fill = () => { while (queue.length < 4 && next < sources.length) queue.push(prepare(sources[next++]!)); };
    let data = new Float32Array(batchSize * per);
    let paths: string[] = [];
    fill();
    for (let i = 0; i < sources.length; i++) {
      const got = await queue.shift()!;
      fill();
      const src = sources[i]!;
      if (got instanceof ImageSkip) {
        skipped++;
        first ??= `${src.name}: ${got.message}`;
        opts.events?.note?.(`${label}: skipped ${src.name}: ${got.message}`);
        continue;
      }
      loaded++;
      const pixels = { width: pp.size[1], height: pp.size[0], data: got.pixels, channels: pp.channels };
      for (const job of bySource[i]!) {
        const image = corruptImage(pixels, job.corruption, job.severity, { seed, index: i, params: opts.params });
        normalizeInto(image.data, pp, data, paths.length * per);
        paths.push(`${src.name}#${job.corruption}-${job.severity}`);
        if (paths.length === batchSize) {
          yield { data, n: batchSize, paths };
          data = new Float32Array(batchSize * per);
          paths = [];
        }
      }
    }
    if (paths.length) yield { data: data.slice(0, paths.length * per), n: paths.length, paths };
    if (loaded === 0) throw new NapoodError(label, 'at least one ID-val image that can be decoded', `none: all ${sources.length} skipped (first: ${first})`);
  }

  return modelSource(model, {
    label,
    n: plan.length,
    mayShrink: true,
    access: opts.access,
    inputs,
    summary: () => (skipped ? `${label}: ${skipped} of ${sources.length} images skipped` : undefined),
  });
}
