/**
 * ODIN with input perturbation on ONNX models (Liang et al., "Enhancing the Reliability of
 * Out-of-distribution Image Detection in Neural Networks", ICLR 2018; as in the ODIN repository
 * and OpenOOD v1.5's ODINPostprocessor):
 *
 *   ŷ = argmax f(x);   L = CE(f(x)/T, ŷ) = −log softmax(f(x)/T)_ŷ;   g = ∇ₓ L
 *   x' = x − η · s(g) / std_c      s(g) = +1 where g ≥ 0, −1 elsewhere (torch.ge(grad, 0) · 2 − 1),
 *                                  std_c the normalisation std of input channel c, so that η is in
 *                                  [0, 1]-pixel units as in OpenOOD and the ODIN repository
 *   score = max_k softmax(f(x') / T)_k          (higher = more in-distribution)
 * Defaults T = 1000, η = 0.0014.
 *
 * onnxruntime has no autograd: dL/df = (softmax(f/T) − onehot(ŷ)) / T is computed here from the
 * logits (float64), and ∇ₓ L comes from the gradient model of backward.ts (the forward graph plus
 * its generated backward graph), which onnxruntime runs like any other model. A batch costs one
 * forward pass, one gradient-model run (a forward and a backward pass) and one forward pass of x'.
 */
import * as ort from 'onnxruntime-node';
import { NapoodError, describe } from '../errors.js';
import { maxSoftmaxRows } from '../methods/common.js';
import type { OnnxClassifier } from './adapter.js';
import { buildGradientModel, type GradientModel } from './backward.js';
import { runRows, type RunOutput } from './batching.js';
import { appendGraphOutputs, decodeModel } from './proto.js';

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

export interface OdinDetails {
  readonly scores: Float64Array;
  /** f(x), N×K. */
  readonly logits: Float32Array;
  /** ∇ₓ L, N×C×H×W (empty when η = 0). */
  readonly gradient: Float32Array;
  /** x', N×C×H×W. */
  readonly perturbed: Float32Array;
  /** f(x'), N×K. */
  readonly perturbedLogits: Float32Array;
}

export interface OdinScorer {
  readonly temperature: number;
  readonly noise: number;
  /** Per-sample input dims ([C, H, W]). */
  readonly inputDims: readonly number[];
  readonly numClasses: number;
  /** The generated gradient model (undefined when η = 0). */
  readonly gradientModel?: GradientModel;
  /** ODIN scores of n inputs (NCHW float32). */
  scores(input: Float32Array, n: number): Promise<Float64Array>;
  /** Scores with every intermediate result. */
  details(input: Float32Array, n: number): Promise<OdinDetails>;
  /** (∂f/∂x)ᵀ · seed for any upstream gradient seed (N×K); needs η > 0 at creation. */
  inputGradient(input: Float32Array, n: number, seed: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

/** dL/df of L = CE(f/T, argmax f) per row: (softmax(f/T) − onehot(ŷ)) / T, computed in float64. */
export function odinLogitGradient(logits: Float32Array, n: number, k: number, temperature: number): Float32Array {
  if (logits.length !== n * k) throw new NapoodError('logits', `${n}×${k} = ${n * k} values`, `${logits.length}`);
  const out = new Float32Array(n * k);
  const p = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    const base = r * k;
    let arg = 0;
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = logits[base + j]!;
      if (v > max) { max = v; arg = j; }
    }
    let sum = 0;
    for (let j = 0; j < k; j++) { p[j] = Math.exp((logits[base + j]! - max) / temperature); sum += p[j]!; }
    for (let j = 0; j < k; j++) out[base + j] = (p[j]! / sum - (j === arg ? 1 : 0)) / temperature;
  }
  return out;
}

/**
 * x' = x − η · s(g) / std_c with s(g) = +1 where g ≥ 0, else −1 (NaN → −1, as torch.ge); c is the
 * channel of each value: the second axis, or the last one for a channels-last (NHWC) input.
 */
export function odinPerturb(input: Float32Array, gradient: Float32Array, n: number, channels: number,
  noise: number, std: readonly number[], channelsLast = false): Float32Array {
  if (gradient.length !== input.length) throw new NapoodError('gradient', `${input.length} values (the input's size)`, `${gradient.length}`);
  const per = n > 0 ? input.length / n : 0;
  const spatial = per / channels;
  if (!Number.isInteger(spatial)) throw new NapoodError('input', `N×${channels}×… values`, `${input.length} for N = ${n}`);
  const out = new Float32Array(input.length);
  if (channelsLast) {
    const steps = Array.from({ length: channels }, (_, c) => noise / (std.length === 1 ? std[0]! : std[c]!));
    for (let i = 0; i < input.length; i++) {
      const step = steps[i % channels]!;
      out[i] = input[i]! - (gradient[i]! >= 0 ? step : -step);
    }
    return out;
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < channels; c++) {
      const step = noise / (std.length === 1 ? std[0]! : std[c]!);
      const base = r * per + c * spatial;
      for (let q = 0; q < spatial; q++) {
        const i = base + q;
        out[i] = input[i]! - (gradient[i]! >= 0 ? step : -step);
      }
    }
  }
  return out;
}

function isClassifier(m: OnnxClassifier | Uint8Array): m is OnnxClassifier {
  return !(m instanceof Uint8Array);
}

function ortMessage(e: unknown): string {
  return describe(String((e as Error)?.message ?? e));
}

/** Prepare ODIN for a model: builds the gradient model once (when η > 0) and the sessions. */
export async function createOdinScorer(model: OnnxClassifier | Uint8Array, opts: OdinOptions): Promise<OdinScorer> {
  const temperature = opts.temperature ?? 1000;
  const noise = opts.noise ?? 0.0014;
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new NapoodError('temperature', 'a finite number > 0', describe(temperature));
  if (!(Number.isFinite(noise) && noise >= 0)) throw new NapoodError('noise', 'a finite number ≥ 0', describe(noise));
  const std = opts.std;
  if (!Array.isArray(std) || std.length === 0 || std.some((s) => !(Number.isFinite(s) && s > 0))) {
    throw new NapoodError('std', 'per-channel normalisation std values > 0', describe(std as unknown));
  }
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
  };
  const file = isClassifier(model) ? model.info.file : opts.file ?? 'model';
  const bytes = isClassifier(model) ? model.modelBytes : model;

  let gradientModel: GradientModel | undefined;
  let gradSession: ort.InferenceSession | undefined;
  let forwardSession: ort.InferenceSession | undefined;
  let inputDims: readonly number[];
  let logitsName: string;
  let inputName: string;
  let numClasses: number;
  if (isClassifier(model)) {
    inputDims = model.info.inputDims;
    logitsName = model.info.logits;
    inputName = model.info.input.name;
    numClasses = model.info.numClasses;
  }
  const open = async (b: Uint8Array, what: string): Promise<ort.InferenceSession> => {
    try {
      return await ort.InferenceSession.create(b, sessionOptions);
    } catch (e) {
      throw new NapoodError(file, `a ${what} onnxruntime can load`, ortMessage(e));
    }
  };
  try {
    if (noise > 0 || !isClassifier(model)) {
      gradientModel = await buildGradientModel(bytes, {
        file,
        threads: opts.threads,
        output: isClassifier(model) ? model.info.logits : undefined,
        inputShape: isClassifier(model) ? model.info.inputDims : opts.inputShape,
      });
      inputDims = gradientModel.inputDims;
      logitsName = gradientModel.output;
      inputName = gradientModel.input;
      numClasses = gradientModel.outputDims.reduce((a, b) => a * b, 1);
      if (noise > 0) gradSession = await open(gradientModel.bytes, 'gradient model');
    }
    if (!isClassifier(model)) {
      const parsed = decodeModel(bytes, file);
      const fwd = parsed.graph.outputs.some((o) => o.name === logitsName!) ? bytes : appendGraphOutputs(bytes, [{ name: logitsName! }]);
      forwardSession = await open(fwd, 'model');
    }
  } catch (e) {
    await gradSession?.release();
    throw e;
  }
  const channelsLast = isClassifier(model) && model.info.inputLayout === 'nhwc';
  const channels = channelsLast ? inputDims![2]! : inputDims![0]!;
  if (std.length !== 1 && std.length !== channels) {
    await gradSession?.release();
    await forwardSession?.release();
    throw new NapoodError('std', `1 or ${channels} values (one per input channel)`, `${std.length}: ${describe(std)}`);
  }
  const per = inputDims!.reduce((a, b) => a * b, 1);
  const k = numClasses!;

  const checkInput = (input: Float32Array, n: number): void => {
    if (!Number.isInteger(n) || n < 0) throw new NapoodError('n', 'a batch size ≥ 0', describe(n));
    if (!(input instanceof Float32Array) || input.length !== n * per) {
      throw new NapoodError('input', `${channelsLast ? 'NHWC' : 'NCHW'} float32 [${n}, ${inputDims.join(', ')}] = ${n * per} values`,
        input instanceof Float32Array ? `${input.length} values` : describe(input as unknown));
    }
  };

  const forward = async (x: Float32Array, n: number): Promise<Float32Array> => {
    if (isClassifier(model)) return (await model.run(x, n)).logits.data;
    let r: Record<string, RunOutput>;
    try {
      r = await runRows(forwardSession!, { [inputName!]: { data: x, rowDims: inputDims } }, n, gradientModel?.fixedBatch);
    } catch (e) {
      throw new NapoodError(file, 'a model that onnxruntime runs on the input', ortMessage(e));
    }
    return r[logitsName!]!.data as Float32Array;
  };

  const inputGradient = async (x: Float32Array, n: number, seed: Float32Array): Promise<Float32Array> => {
    checkInput(x, n);
    if (gradSession === undefined || gradientModel === undefined) {
      throw new NapoodError('noise', 'a value > 0 when the scorer was created (the gradient model is built only then)', '0');
    }
    if (seed.length !== n * k) throw new NapoodError('seed', `${n}×${k} = ${n * k} values`, `${seed.length}`);
    if (n === 0) return new Float32Array(0);
    let r: Record<string, RunOutput>;
    try {
      r = await runRows(gradSession, {
        [gradientModel.input]: { data: x, rowDims: inputDims },
        [gradientModel.seed]: { data: seed, rowDims: gradientModel.outputDims },
      }, n, gradientModel.fixedBatch);
    } catch (e) {
      throw new NapoodError(file, 'a gradient model that onnxruntime runs', ortMessage(e));
    }
    return r[gradientModel.gradient]!.data as Float32Array;
  };

  const details = async (x: Float32Array, n: number): Promise<OdinDetails> => {
    checkInput(x, n);
    if (n === 0) {
      const e = new Float32Array(0);
      return { scores: new Float64Array(0), logits: e, gradient: e, perturbed: e, perturbedLogits: e };
    }
    const logits = await forward(x, n);
    if (noise === 0) {
      return { scores: maxSoftmaxRows(logits, n, k, temperature), logits, gradient: new Float32Array(0), perturbed: x, perturbedLogits: logits };
    }
    const seed = odinLogitGradient(logits, n, k, temperature);
    const gradient = await inputGradient(x, n, seed);
    const perturbed = odinPerturb(x, gradient, n, channels, noise, std, channelsLast);
    const perturbedLogits = await forward(perturbed, n);
    return { scores: maxSoftmaxRows(perturbedLogits, n, k, temperature), logits, gradient, perturbed, perturbedLogits };
  };

  return {
    temperature, noise, inputDims: inputDims!, numClasses: k, gradientModel: noise > 0 ? gradientModel : undefined,
    scores: async (x, n) => (await details(x, n)).scores,
    details,
    inputGradient,
    release: async () => {
      await gradSession?.release();
      await forwardSession?.release();
    },
  };
}

/** ODIN scores of n NCHW float32 inputs (builds the gradient model; use createOdinScorer for many batches). */
export async function odinScores(model: OnnxClassifier | Uint8Array, input: Float32Array, n: number,
  opts: OdinOptions): Promise<Float64Array> {
  const scorer = await createOdinScorer(model, opts);
  try {
    return await scorer.scores(input, n);
  } finally {
    await scorer.release();
  }
}
