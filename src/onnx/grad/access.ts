/**
 * The ModelAccess of an ONNX model (types.ts): forward runs for the logits, and input gradients
 * of any loss of the logits through the generated gradient model (index.ts), whose second input
 * is the seed dL/df. One gradient model serves every loss and every temperature; it is built on
 * the first gradient asked for (at once for raw model bytes, whose input dims it gives), and its
 * session is kept until `release`. Models with a fixed batch size run in slices of it.
 */
import { NapoodError, describe } from '../../errors.js';
import type { Layout, ModelAccess } from '../../types.js';
import type { OnnxClassifier } from '../adapter.js';
import { runRows, type RunOutput } from '../batching.js';
import { prepareModelBytes } from '../external.js';
import { decodeOnnx } from '../nodes.js';
import { appendGraphOutputs } from '../write.js';
import { openSession, ortMessage, sessionOptions, type OnnxRuntime, type OnnxSession } from '../runtime.js';
import { buildGradientModel, type GradientModel } from './index.js';

export interface OnnxAccessOptions {
  /** The normalisation std of each input channel (ModelAccess.inputStd). */
  readonly std?: readonly number[];
  /** onnxruntime intra-op threads. */
  readonly threads?: number;
  /** Per-sample input dims where the model's are symbolic (raw model bytes only). */
  readonly inputShape?: readonly number[];
  /** Name for error messages (raw model bytes only; default "model"). */
  readonly file?: string;
}

export interface OnnxModelAccess extends ModelAccess {
  /** The model's name in messages. */
  readonly file: string;
  /** The generated gradient model, built and its session opened on the first call (or the first inputGradient). */
  gradientModel(): Promise<GradientModel>;
  /** Release the sessions this access opened (not the classifier's own). */
  release(): Promise<void>;
}

interface Parts {
  readonly file: string;
  readonly runtime: OnnxRuntime;
  readonly layout: Layout;
  readonly inputDims: readonly number[];
  readonly numClasses: number;
  readonly std?: readonly number[];
  readonly threads?: number;
  readonly gradientModel: () => Promise<GradientModel>;
  /** Logits of a checked, non-empty batch. */
  readonly logits: (x: Float32Array, n: number) => Promise<Float32Array>;
  readonly releaseForward: () => Promise<void>;
}

function access(p: Parts): OnnxModelAccess {
  const { file, runtime, layout, inputDims, numClasses: k } = p;
  const per = inputDims.reduce((a, b) => a * b, 1);
  const checkInput = (input: Float32Array, n: number): void => {
    if (!Number.isInteger(n) || n < 0) throw new NapoodError('n', 'a batch size ≥ 0', describe(n));
    if (!(input instanceof Float32Array) || input.length !== n * per) {
      throw new NapoodError('input', `${layout === 'nhwc' ? 'NHWC' : 'NCHW'} float32 [${n}, ${inputDims.join(', ')}] = ${n * per} values`,
        input instanceof Float32Array ? `${input.length} values` : describe(input as unknown));
    }
  };
  let gradSession: Promise<{ gm: GradientModel; session: OnnxSession }> | undefined;
  const gradient = (): Promise<{ gm: GradientModel; session: OnnxSession }> => {
    gradSession ??= (async () => {
      const gm = await p.gradientModel();
      const session = await openSession(runtime, gm.bytes, sessionOptions(p.threads, 'all'), file, 'a gradient model onnxruntime can load');
      return { gm, session };
    })();
    return gradSession;
  };
  return {
    file, layout, inputDims, numClasses: k, inputStd: p.std,
    gradientModel: async () => (await gradient()).gm,
    async forward(input, n) {
      checkInput(input, n);
      return n === 0 ? new Float32Array(0) : p.logits(input, n);
    },
    async inputGradient(input, n, seed) {
      checkInput(input, n);
      if (!(seed instanceof Float32Array) || seed.length !== n * k) {
        throw new NapoodError('seed', `${n}×${k} = ${n * k} values (dL/df of each input)`, seed instanceof Float32Array ? `${seed.length}` : describe(seed as unknown));
      }
      if (n === 0) return new Float32Array(0);
      const { gm, session } = await gradient();
      let r: Record<string, RunOutput>;
      try {
        r = await runRows(runtime, session, {
          [gm.input]: { data: input, rowDims: inputDims },
          [gm.seed]: { data: seed, rowDims: gm.outputDims },
        }, n, gm.fixedBatch);
      } catch (e) {
        throw new NapoodError(file, 'a gradient model that onnxruntime runs', ortMessage(e));
      }
      return r[gm.gradient]!.data as Float32Array;
    },
    async release() {
      const g = gradSession;
      gradSession = undefined;
      if (g !== undefined) {
        try { await (await g).session.release(); } catch { /* never opened: nothing to release */ }
      }
      await p.releaseForward();
    },
  };
}

/** Memoise an async builder (a failure is kept: every later call rejects the same way). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}

/** The ModelAccess of a loaded classifier: forward runs are the classifier's own; the gradient model is built on first use. */
export function classifierAccess(model: OnnxClassifier, opts: Pick<OnnxAccessOptions, 'std' | 'threads'> = {}): OnnxModelAccess {
  const info = model.info;
  return access({
    file: info.file, runtime: model.runtime, layout: info.inputLayout, inputDims: info.inputDims, numClasses: info.numClasses,
    std: opts.std, threads: opts.threads,
    gradientModel: once(() => buildGradientModel(model.modelBytes,
      { file: info.file, threads: opts.threads, output: info.logits, inputShape: info.inputDims }, model.runtime)),
    logits: async (x, n) => (await model.run(x, n)).logits.data,
    releaseForward: async () => undefined,
  });
}

/**
 * The ModelAccess of raw ONNX bytes (no graph analysis: the logits are the first graph output, or
 * the input of a final Softmax; the input is taken as channels first). Builds the gradient model
 * at once (it gives the input dims) and a forward session with the logits as an output.
 */
export async function bytesAccess(bytes: Uint8Array, opts: OnnxAccessOptions, runtime: OnnxRuntime): Promise<OnnxModelAccess> {
  const file = opts.file ?? 'model';
  bytes = await prepareModelBytes(bytes, file); // every tensor checked; external data refused (no folder to read it from)
  const gm = await buildGradientModel(bytes, { file, threads: opts.threads, inputShape: opts.inputShape }, runtime);
  const parsed = decodeOnnx(bytes, file);
  const fwd = parsed.graph.outputs.some((o) => o.name === gm.output) ? bytes : appendGraphOutputs(bytes, [{ name: gm.output }]);
  const session = await openSession(runtime, fwd, sessionOptions(opts.threads, 'all'), file);
  return access({
    file, runtime, layout: 'nchw', inputDims: gm.inputDims, numClasses: gm.outputDims.reduce((a, b) => a * b, 1),
    std: opts.std, threads: opts.threads,
    gradientModel: async () => gm,
    logits: async (x, n) => {
      let r: Record<string, RunOutput>;
      try {
        r = await runRows(runtime, session, { [gm.input]: { data: x, rowDims: gm.inputDims } }, n, gm.fixedBatch);
      } catch (e) {
        throw new NapoodError(file, 'a model that onnxruntime runs on the input', ortMessage(e));
      }
      return r[gm.output]!.data as Float32Array;
    },
    releaseForward: () => session.release(),
  });
}

/** The ModelAccess of a loaded classifier, or of raw ONNX bytes run on `runtime`. */
export async function onnxModelAccess(model: OnnxClassifier | Uint8Array, opts: OnnxAccessOptions = {}, runtime?: OnnxRuntime): Promise<OnnxModelAccess> {
  if (!(model instanceof Uint8Array)) return classifierAccess(model, opts);
  if (runtime === undefined) throw new NapoodError('runtime', 'the onnxruntime to run raw model bytes on (e.g. nodeRuntime from napood\'s node entry)', 'none');
  return bytesAccess(model, opts, runtime);
}
