/** ONNX models in the CLI: loading with the user's layer choices (option names shown as the CLI's flags), --input-shape. */
import { NapoodError, describe } from '../errors.js';
import type { OnnxClassifier } from '../onnx/adapter.js';

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
    // onnxruntime-node is loaded only by commands that open a model.
    const { loadOnnxModel } = await import('../node/onnx.js');
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

export type { ModelSource } from '../app/model-source.js';
