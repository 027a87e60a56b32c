/**
 * A batch source over images held by the caller — file bytes (with a decoder), decoded pixels,
 * or named (and optionally labelled) entries whose image may be a function fetching either — run
 * through a model. OodModel.images and Detector.check share it. Runtime-neutral.
 */
import { imageSourceBatches, type ImageDecoder, type ImageInput, type ImageSource } from '../images/index.js';
import type { Preprocess } from '../images/preprocess.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { ModelAccess, NapoodEvents } from '../types.js';
import { modelSource, type ModelSource } from './model-source.js';

/** One image of a set: its bytes or pixels, or a named (and optionally labelled) entry. */
export type ImageEntry = ImageInput | { readonly name: string; readonly image: ImageSource['image']; readonly label?: number };

export interface ImageEntryOptions {
  readonly decoder?: ImageDecoder;
  readonly batchSize?: number;
  readonly access?: ModelAccess;
  readonly events?: NapoodEvents;
  /** Keep the entries' labels (for fitting and accuracy). */
  readonly withLabels?: boolean;
}

/** The entries as ImageSources (unnamed ones named `label[i]`). */
export function imageSourcesOf(set: readonly ImageEntry[], label: string): ImageSource[] {
  return set.map((e, i) => (typeof e === 'object' && e !== null && 'image' in e && 'name' in e
    ? { name: e.name, image: e.image, label: e.label ?? -1 }
    : { name: `${label}[${i}]`, image: e as ImageInput, label: -1 }));
}

export function imageEntrySource(model: OnnxClassifier, set: readonly ImageEntry[], pp: Preprocess, label: string, opts: ImageEntryOptions = {}): ModelSource {
  const sources = imageSourcesOf(set, label);
  const labelled = Boolean(opts.withLabels) && sources.some((s) => s.label >= 0);
  let skipped = 0;
  return modelSource(model, {
    label,
    n: sources.length,
    mayShrink: true,
    withLabels: labelled,
    access: opts.access,
    inputs: () => imageSourceBatches(sources, pp, {
      decoder: opts.decoder,
      batchSize: opts.batchSize,
      argument: label,
      onSkip: (name, reason) => { skipped++; opts.events?.note?.(`${label}: skipped ${name}: ${reason}`); },
    }),
    summary: () => (skipped ? `${label}: ${skipped} of ${sources.length} images skipped` : undefined),
  });
}
