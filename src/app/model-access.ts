/**
 * The model's part of a run for methods that need the model itself (ODIN's input perturbation),
 * and ODIN as a library call on an ONNX model.
 */
import { NapoodError } from '../errors.js';
import { checkOdinParams, inputChannels, odinDetails, type OdinDetails } from '../methods/odin.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import { classifierAccess, onnxModelAccess, type OnnxModelAccess } from '../onnx/grad/access.js';
import type { GradientModel } from '../onnx/grad/index.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import type { ModelAccess } from '../types.js';

/**
 * The model's part of a run for methods that need the model itself (ODIN's input perturbation):
 * forward runs and input gradients of any loss of the logits. One gradient model is built on the
 * first gradient asked for and serves every method and parameter; `std` is the input
 * normalisation std per channel (ODIN's η is in [0, 1]-pixel units, as in the ODIN code).
 */
export interface ModelAccessHandle extends ModelAccess {
  release(): Promise<void>;
}

export function modelAccess(model: OnnxClassifier, std: readonly number[] | undefined, threads: number | undefined): ModelAccessHandle & OnnxModelAccess {
  return classifierAccess(model, { std, threads });
}

export interface OdinOptions {
  /** Temperature T > 0 (default 1000). */
  readonly temperature?: number;
  /** Perturbation magnitude η ≥ 0 (default 0.0014); 0 skips the gradient (temperature scaling alone). */
  readonly noise?: number;
  /** The normalisation std of each input channel (length C, or one value for all channels). */
  readonly std: readonly number[];
  /** onnxruntime intra-op threads. */
  readonly threads?: number;
  /** Per-sample input dims where the model's are symbolic (raw model bytes only). */
  readonly inputShape?: readonly number[];
  /** Name for error messages (raw model bytes only; default "model"). */
  readonly file?: string;
}

export interface OdinScorer {
  readonly temperature: number;
  readonly noise: number;
  /** Per-sample input dims, in the model's layout. */
  readonly inputDims: readonly number[];
  readonly numClasses: number;
  /** The generated gradient model (undefined when η = 0). */
  readonly gradientModel?: GradientModel;
  /** ODIN scores of n inputs (float32 in the model's layout). Three model runs: f(x), the gradient graph, f(x′). */
  scores(input: Float32Array, n: number): Promise<Float64Array>;
  /** Scores with every intermediate result. */
  details(input: Float32Array, n: number): Promise<OdinDetails>;
  /** (∂f/∂x)ᵀ · seed for any upstream gradient seed (N×K); needs η > 0 at creation. */
  inputGradient(input: Float32Array, n: number, seed: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Prepare ODIN for a loaded classifier, or for raw ONNX bytes run on `runtime` (the gradient model
 * is built at once when η > 0, and for raw bytes always: it gives their input dims).
 */
export async function createOdinScorer(model: OnnxClassifier, opts: OdinOptions): Promise<OdinScorer>;
export async function createOdinScorer(model: Uint8Array, opts: OdinOptions, runtime: OnnxRuntime): Promise<OdinScorer>;
export async function createOdinScorer(model: OnnxClassifier | Uint8Array, opts: OdinOptions, runtime?: OnnxRuntime): Promise<OdinScorer> {
  return odinScorer(model, opts, runtime);
}

async function odinScorer(model: OnnxClassifier | Uint8Array, opts: OdinOptions, runtime?: OnnxRuntime): Promise<OdinScorer> {
  const temperature = opts.temperature ?? 1000;
  const noise = opts.noise ?? 0.0014;
  const std = opts.std;
  checkOdinParams(temperature, noise, std);
  const access = await onnxModelAccess(model, { std, threads: opts.threads, inputShape: opts.inputShape, file: opts.file }, runtime);
  let gradientModel: GradientModel | undefined;
  try {
    checkOdinParams(temperature, noise, std, inputChannels(access));
    if (noise > 0) gradientModel = await access.gradientModel();
  } catch (e) {
    await access.release();
    throw e;
  }
  return {
    temperature, noise, inputDims: access.inputDims, numClasses: access.numClasses, gradientModel,
    scores: async (x, n) => (await odinDetails(access, x, n, { temperature, noise, std })).scores,
    details: (x, n) => odinDetails(access, x, n, { temperature, noise, std }),
    inputGradient: async (x, n, seed) => {
      if (gradientModel === undefined) {
        throw new NapoodError('noise', 'a value > 0 when the scorer was created (the gradient model is built only then)', '0');
      }
      return access.inputGradient(x, n, seed);
    },
    release: () => access.release(),
  };
}

/** ODIN scores of n inputs (builds the gradient model; use createOdinScorer for many batches). */
export async function odinScores(model: OnnxClassifier, input: Float32Array, n: number, opts: OdinOptions): Promise<Float64Array>;
export async function odinScores(model: Uint8Array, input: Float32Array, n: number, opts: OdinOptions, runtime: OnnxRuntime): Promise<Float64Array>;
export async function odinScores(model: OnnxClassifier | Uint8Array, input: Float32Array, n: number,
  opts: OdinOptions, runtime?: OnnxRuntime): Promise<Float64Array> {
  const scorer = await odinScorer(model, opts, runtime);
  try {
    return await scorer.scores(input, n);
  } finally {
    await scorer.release();
  }
}
