/**
 * ODIN (Liang et al., "Enhancing the Reliability of Out-of-distribution Image Detection in Neural
 * Networks", ICLR 2018).
 *
 *   L = CE(f(x)/T, ŷ), ŷ = argmax f(x);  dL/df = (softmax(f/T) − onehot(ŷ)) / T
 *   x' = x − η · sign(∇ₓ L) / std_c       (per input channel c, in the model's layout)
 *   S_ODIN(x) = max_k softmax(f(x') / T)_k
 *
 * Needs: logits; the input perturbation (η > 0) also needs the model (ctx.model, a ModelAccess,
 * over batch.input): dL/df is computed here from the batch's logits f(x), the model turns it into
 * ∇ₓ L with one run of its gradient graph, and one forward run gives f(x'). So the perturbation
 * costs two model runs per batch beyond the forward pass every method shares (three when the
 * logits f(x) are not given, as in `odinDetails` without them). On feature dumps only the
 * temperature part runs, and the user must ask for it explicitly with `odin:noise=0` — napood
 * never silently drops the perturbation.
 * Defaults: T = 1000, η = 0.0014.
 */
import { NapoodError, describe } from '../errors.js';
import type { MethodDefinition, ModelAccess } from '../types.js';
import { TEMPERATURE_RANGE, maxSoftmaxRows } from './common.js';
import { requireLogits } from './needs.js';

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

/** Number of input channels of a model: the first per-sample dim, or the last one for 'nhwc'. */
export function inputChannels(model: Pick<ModelAccess, 'layout' | 'inputDims'>): number {
  return model.layout === 'nhwc' ? model.inputDims[model.inputDims.length - 1]! : model.inputDims[0]!;
}

/** The checks of ODIN's arguments: T > 0, η ≥ 0, std values > 0 (`channels`: 1 or that many). */
export function checkOdinParams(temperature: number, noise: number, std?: readonly number[], channels?: number): void {
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new NapoodError('temperature', 'a finite number > 0', describe(temperature));
  if (!(Number.isFinite(noise) && noise >= 0)) throw new NapoodError('noise', 'a finite number ≥ 0', describe(noise));
  if (std === undefined) return;
  if (!Array.isArray(std) || std.length === 0 || std.some((s) => !(Number.isFinite(s) && s > 0))) {
    throw new NapoodError('std', 'per-channel normalisation std values > 0', describe(std as unknown));
  }
  if (channels !== undefined && std.length !== 1 && std.length !== channels) {
    throw new NapoodError('std', `1 or ${channels} values (one per input channel)`, `${std.length}: ${describe(std)}`);
  }
}

export interface OdinDetails {
  readonly scores: Float64Array;
  /** f(x), N×K. */
  readonly logits: Float32Array;
  /** ∇ₓ L, in the input's layout (empty when η = 0). */
  readonly gradient: Float32Array;
  /** x', in the input's layout. */
  readonly perturbed: Float32Array;
  /** f(x'), N×K. */
  readonly perturbedLogits: Float32Array;
}

export interface OdinRun {
  readonly temperature: number;
  readonly noise: number;
  /** Normalisation std per input channel (or one for all); needed when noise > 0. */
  readonly std?: readonly number[];
  /** f(x) when the caller has it (a batch's logits): saves a forward run. */
  readonly logits?: Float32Array;
}

/**
 * ODIN on n inputs of any model: scores and every intermediate result. Model runs: f(x) unless
 * given, then for η > 0 the gradient graph once and f(x') once.
 */
export async function odinDetails(model: ModelAccess, input: Float32Array, n: number, run: OdinRun): Promise<OdinDetails> {
  const { temperature: t, noise } = run;
  const channels = inputChannels(model);
  checkOdinParams(t, noise, noise > 0 ? run.std ?? [] : undefined, channels);
  const k = model.numClasses;
  if (n === 0) {
    await model.forward(input, 0); // checks the input
    const e = new Float32Array(0);
    return { scores: new Float64Array(0), logits: e, gradient: e, perturbed: e, perturbedLogits: e };
  }
  const logits = run.logits !== undefined && run.logits.length === n * k ? run.logits : await model.forward(input, n);
  if (noise === 0) {
    return { scores: maxSoftmaxRows(logits, n, k, t), logits, gradient: new Float32Array(0), perturbed: input, perturbedLogits: logits };
  }
  const gradient = await model.inputGradient(input, n, odinLogitGradient(logits, n, k, t));
  const perturbed = odinPerturb(input, gradient, n, channels, noise, run.std!, model.layout === 'nhwc');
  const perturbedLogits = await model.forward(perturbed, n);
  return { scores: maxSoftmaxRows(perturbedLogits, n, k, t), logits, gradient, perturbed, perturbedLogits };
}

/** ODIN with the perturbation, on a batch from a model (its logits are f(x)). */
async function perturbedScores(model: ModelAccess, input: Float32Array, n: number, logits: Float32Array | undefined,
  temperature: number, noise: number): Promise<Float64Array> {
  if (!model.inputStd) {
    throw new NapoodError('odin', 'the normalisation std of the model input, to express η in pixel units: --std S[,S,S] or --preset (or images, whose preprocessing gives it)', 'a preprocessed tensor and no --std');
  }
  return (await odinDetails(model, input, n, { temperature, noise, std: model.inputStd, logits })).scores;
}

export const odin: MethodDefinition<undefined> = {
  name: 'odin',
  summary: 'max softmax(f(x′)/T) of a gradient-perturbed input; temperature part alone with noise=0',
  source: 'Liang et al., ICLR 2018',
  needs: ['logits'],
  params: {
    t: { default: 1000, ...TEMPERATURE_RANGE, doc: 'temperature T' },
    // η moves normalised inputs (the paper's grid: 0 … 0.004); above 1 the input is no longer the image.
    noise: { default: 0.0014, min: 0, max: 1, doc: 'input perturbation magnitude η (needs a model; 0 on feature dumps)' },
  },
  needsFor: (params) => (params.noise !== 0 ? ['logits', 'model'] : ['logits']),
  score(batch, ctx) {
    if (ctx.params.noise !== 0) {
      if (ctx.model && batch.input) {
        const logits = batch.logits?.k === ctx.model.numClasses ? batch.logits.data : undefined;
        return perturbedScores(ctx.model, batch.input, batch.n, logits, ctx.params.t, ctx.params.noise);
      }
      throw new NapoodError(
        'odin:noise',
        'noise=0 on feature dumps (the input perturbation needs the model\'s gradient: use --model), e.g. --methods odin:noise=0',
        `noise=${ctx.params.noise} without a model`,
      );
    }
    const f = requireLogits(batch, 'odin');
    return maxSoftmaxRows(f.data, batch.n, f.k, ctx.params.t);
  },
};
