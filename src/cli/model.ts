/** ONNX models in the CLI: loading with the user's layer choices (option names shown as the CLI's flags), --input-shape. */
import { NapoodError, describe, shapeString } from '../errors.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import { grouped, MAX_BATCH_BYTES, MAX_INPUT_PIXELS } from '../onnx/limits.js';

export interface ModelChoices {
  readonly featureLayer?: string;
  readonly layers?: readonly string[];
  readonly threads?: number;
  /** [C, H, W] for a model whose input dims are symbolic (--input-shape). */
  readonly inputShape?: readonly number[];
  /** [C, H, W] to use when the model's dims are symbolic and no inputShape was given (from the preprocessing flags). */
  readonly defaultInputShape?: readonly number[];
  /** Images per forward pass (--batch-size): checked at load against the model's tensors (each batch under 2 GiB). */
  readonly batchSize?: number;
}

/** The adapter's option names as the CLI flags a user typed. */
const CLI_OPTION: Readonly<Record<string, string>> = { featureLayer: '--feature-layer', extraOutputs: '--layers', inputShape: '--input-shape', batchSize: '--batch-size' };

export async function openModel(path: string, choices: ModelChoices = {}): Promise<OnnxClassifier> {
  try {
    // onnxruntime-node is loaded only by commands that open a model.
    const { loadOnnxModel } = await import('../node/onnx.js');
    return await loadOnnxModel(path, {
      featureLayer: choices.featureLayer, extraOutputs: choices.layers, threads: choices.threads,
      inputShape: choices.inputShape, defaultInputShape: choices.defaultInputShape, batchSize: choices.batchSize,
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
  const [c, h, w] = dims as [number, number, number];
  if (h * w > MAX_INPUT_PIXELS) {
    throw new NapoodError('--input-shape', `an image of at most ${grouped(MAX_INPUT_PIXELS)} pixels (H×W)`, `${shapeString(dims)}: ${grouped(h * w)} pixels`);
  }
  if (c * h * w * 4 > MAX_BATCH_BYTES) {
    throw new NapoodError('--input-shape', 'an image under 2 GiB as float32 (C×H×W×4 bytes)', `${shapeString(dims)}: ${grouped(c * h * w * 4)} bytes`);
  }
  return dims;
}

export type { ModelSource } from '../app/model-source.js';
