/**
 * ONNX model adapter on an injected onnxruntime (runtime.ts; CPU): loads an image classifier, exposes the feature map
 * before global pooling, the pooled feature z and the logits of each batch (a FeatureBatch), and
 * the classifier head (SPEC §4.1).
 *
 * The model bytes are edited losslessly (write.ts `appendGraphOutputs`): the feature map, the
 * pooled tensor, the logits (when they are not already an output) and any `extraOutputs` become
 * extra graph outputs; every original byte is kept and the batch dimension stays dynamic. A
 * one-layer head is applied as W z + b with float64 accumulation; a deeper head (VGG-style MLP)
 * runs as a sub-model of its own (graph.ts `headSubModel`), so ReAct / ASH / DICE / ViM can feed
 * it modified pooled features.
 */
import { NapoodError, describe, shapeString } from '../errors.js';
import type { FeatureBatch, FeatureMap, Head, LinearHead } from '../types.js';
import { linearHead } from '../methods/common.js';
import { fixedBatchOf, runRows, type RunOutput } from './batching.js';
import { analyseGraph, headSubModel, type GraphAnalysis } from './graph.js';
import { prepareModelBytes, type ExternalDataReader } from './external.js';
import { bytesText, grouped, MAX_BATCH_BYTES, MAX_INPUT_PIXELS } from './limits.js';
import { decodeOnnx } from './nodes.js';
import type { Dim, ModelProto } from './proto.js';
import { ProtoDecodeError } from './wire.js';
import { appendGraphOutputs } from './write.js';
import { checkRuntimeSupport, openSession, ortMessage, sessionOptions, type OnnxRuntime, type OnnxSession } from './runtime.js';

export interface OnnxLoadOptions {
  /** Use this tensor as the feature map instead of the tensor fed to the global pooling. */
  readonly featureLayer?: string;
  /** More tensors to return from each run (e.g. other layers for multi-layer NAP). */
  readonly extraOutputs?: readonly string[];
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  readonly threads?: number;
  /** [C, H, W] to use where the model's input dims are symbolic (channels first even for an NHWC model). */
  readonly inputShape?: readonly number[];
  /** [C, H, W] for symbolic dims when `inputShape` is not given, never checked against fixed dims (e.g. the preprocessing size). */
  readonly defaultInputShape?: readonly number[];
  /**
   * Reads the model's external data (tensors whose values are in other files); without it such
   * a model is refused. napood/node's loader reads them from the model file's folder.
   */
  readonly externalData?: ExternalDataReader;
  /** The most images the caller will pass to one `run`: checked at load to keep each batch tensor under 2 GiB. */
  readonly batchSize?: number;
}

export interface OnnxModelInfo extends GraphAnalysis {
  readonly file: string;
  /** Input [C, H, W] of one image (from the model, or `inputShape` for symbolic dims), whatever the layout. */
  readonly inputChw: readonly [number, number, number];
  /** The dims of one image as the model takes them: [C, H, W], or [H, W, C] when inputLayout is 'nhwc'. */
  readonly inputDims: readonly [number, number, number];
  /** Feature map [C, H, W], from a probe run at load time. */
  readonly featureShape: readonly [number, number, number];
  /** Length of z (undefined when there is no pooled tensor). */
  readonly pooledDim?: number;
  readonly numClasses: number;
  /** Names added as graph outputs (in order). */
  readonly addedOutputs: readonly string[];
  /** The tensors asked for with `extraOutputs`, returned in every run's `extra` (e.g. layers for multi-layer NAP). */
  readonly extraOutputs: readonly string[];
  /** The batch size the model was exported with, when it is fixed (runs go in slices of it). */
  readonly fixedBatch?: number;
}

export interface ExtraOutput {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface OnnxRunResult extends FeatureBatch {
  readonly featureMap: FeatureMap;
  readonly logits: { readonly data: Float32Array; readonly k: number };
  readonly extra: Readonly<Record<string, ExtraOutput>>;
}

export interface OnnxClassifier {
  readonly info: OnnxModelInfo;
  /** Undefined only when the model has no pooled feature (featureLayer given, no pooling found). */
  readonly head?: Head;
  /** The edited model (original bytes + appended outputs). */
  readonly modelBytes: Uint8Array;
  /** The onnxruntime the model runs on (gradient models of it run there too). */
  readonly runtime: OnnxRuntime;
  /** Run n images, float32 in the model's layout (`shape` = inputDims or [N, ...inputDims], checked when given). The feature map comes back NCHW. */
  run(input: Float32Array, n: number, shape?: readonly number[]): Promise<OnnxRunResult>;
  release(): Promise<void>;
}

function dimsString(dims: readonly Dim[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

function wrapDecodeError(file: string, e: unknown): never {
  if (e instanceof ProtoDecodeError) {
    throw new NapoodError(file, 'an ONNX model (a complete protobuf ModelProto)', e.message);
  }
  throw e;
}

/** The last component of a path (either separator), for the decoder's messages. */
function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
}

/**
 * One image of [C, H, W] (and a fixed batch of them) within the bounds napood allocates: at most
 * MAX_INPUT_PIXELS pixels, and every batch tensor under 2 GiB. `argument` is the input's source
 * (the file, or 'inputShape'), `what` describes it.
 */
function checkInputSize(chw: readonly number[], fixedBatch: number | undefined, argument: string, what: string): void {
  const [c, h, w] = chw as [number, number, number];
  if (h * w > MAX_INPUT_PIXELS) {
    throw new NapoodError(argument, `an image input of at most ${grouped(MAX_INPUT_PIXELS)} pixels (H×W)`, `${what}: [C, H, W] = ${shapeString(chw)}, ${grouped(h * w)} pixels`);
  }
  if (c * h * w * 4 > MAX_BATCH_BYTES) {
    throw new NapoodError(argument, 'an image input under 2 GiB as float32 (C×H×W×4 bytes)', `${what}: [C, H, W] = ${shapeString(chw)}, ${bytesText(c * h * w * 4)}`);
  }
  if (fixedBatch !== undefined) checkBatchRows(fixedBatch, c * h * w, argument, `${what}, exported with a fixed batch of ${grouped(fixedBatch)}`);
}

/** `rows` rows of `rowValues` float32 values under 2 GiB; a NapoodError naming `argument` otherwise. */
function checkBatchRows(rows: number, rowValues: number, argument: string, what: string): void {
  if (rows * rowValues * 4 <= MAX_BATCH_BYTES) return;
  const most = Math.max(1, Math.floor(MAX_BATCH_BYTES / 4 / rowValues));
  throw new NapoodError(argument, `at most ${grouped(most)} images per run for ${what} (a batch tensor must stay under 2 GiB)`, grouped(rows));
}

/** Parse model bytes; NapoodError naming `file` when they are not an ONNX model. */
export function parseModel(bytes: Uint8Array, file: string): ModelProto {
  const model = decodeOnnx(bytes, file, baseName(file));
  if (model.irVersion <= 0 || model.opsetImports.length === 0 || model.graph.nodes.length === 0) {
    throw new NapoodError(file, 'an ONNX model (ModelProto with ir_version, opset_import and graph nodes)',
      `ir_version ${model.irVersion}, ${model.opsetImports.length} opset imports, ${model.graph.nodes.length} nodes`);
  }
  return model;
}

function createSession(runtime: OnnxRuntime, bytes: Uint8Array, file: string, threads?: number): Promise<OnnxSession> {
  return openSession(runtime, bytes, sessionOptions(threads, 'all'), file);
}

/** Float32 data of an output, or a NapoodError. */
function floatOutput(t: RunOutput | undefined, name: string, file: string): Float32Array {
  if (t === undefined) throw new NapoodError(file, `an output ${describe(name)}`, 'none from onnxruntime');
  if (t.type !== 'float32') throw new NapoodError(file, `float32 output ${describe(name)}`, `${t.type}`);
  return t.data as Float32Array;
}

/** [N, H, W, C] → [N, C, H, W] (a channels-last feature map, read in NCHW as every method expects). */
export function nhwcToNchw(src: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const hw = h * w;
  const out = new Float32Array(n * c * hw);
  for (let i = 0; i < n; i++) {
    const base = i * c * hw;
    for (let p = 0; p < hw; p++) {
      const from = base + p * c;
      for (let ch = 0; ch < c; ch++) out[base + ch * hw + p] = src[from + ch]!;
    }
  }
  return out;
}

/**
 * Load an ONNX classifier from its bytes and prepare it for feature extraction on `runtime`;
 * `file` names the model in messages and in `info.file` (node/onnx.ts reads files).
 */
export async function loadOnnxModel(bytes: Uint8Array, file: string, opts: OnnxLoadOptions, runtime: OnnxRuntime): Promise<OnnxClassifier> {
  // every tensor checked, external data inlined: onnxruntime opens no file
  bytes = await prepareModelBytes(bytes, file, opts.externalData);
  const model = parseModel(bytes, file);
  checkRuntimeSupport(model, file, runtime);
  let analysis: GraphAnalysis;
  try {
    analysis = analyseGraph(model, { featureLayer: opts.featureLayer, file });
  } catch (e) {
    wrapDecodeError(file, e);
  }

  // input dims, read in [C, H, W] order from either layout
  const shape = analysis.input.shape;
  const nhwcInput = analysis.inputLayout === 'nhwc';
  const axisOf = nhwcInput ? [3, 1, 2] : [1, 2, 3];
  const AXIS_NAMES = ['channels', 'rows (height)', 'columns (width)'];
  const chw: number[] = [];
  let given = false;
  for (let j = 0; j < 3; j++) {
    const dim = shape[axisOf[j]!];
    const want = opts.inputShape?.[j];
    const fallback = opts.defaultInputShape?.[j];
    if (dim === 0) {
      throw new NapoodError(file, 'an image input with at least one channel, row and column', `input ${describe(analysis.input.name)} ${dimsString(shape)}: 0 ${AXIS_NAMES[j]}`);
    }
    if (typeof dim === 'number' && dim > 0) {
      if (want !== undefined && want !== dim) {
        throw new NapoodError('inputShape', `[C, H, W] matching ${file}'s input ${dimsString(shape)}`, shapeString(opts.inputShape!));
      }
      chw.push(dim);
    } else if (want !== undefined && Number.isInteger(want) && want > 0) {
      chw.push(want);
      given = true;
    } else if (want === undefined && fallback !== undefined && Number.isInteger(fallback) && fallback > 0) {
      chw.push(fallback);
      given = true;
    } else {
      throw new NapoodError('inputShape', `[C, H, W] for ${file}, whose input ${describe(analysis.input.name)} has symbolic dims ${dimsString(shape)} (CLI: --input-shape C,H,W, or the size from --size / --preset)`,
        opts.inputShape === undefined ? 'none' : shapeString(opts.inputShape));
    }
  }
  const fixedBatch = fixedBatchOf(shape[0]);
  checkInputSize(chw, fixedBatch, given ? 'inputShape' : file, `${file}'s input ${describe(analysis.input.name)} ${dimsString(shape)}`);
  const per = chw[0]! * chw[1]! * chw[2]!;
  const batchSize = opts.batchSize;
  if (batchSize !== undefined) {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new NapoodError('batchSize', 'a whole number of images ≥ 1', describe(batchSize));
    checkBatchRows(batchSize, per, 'batchSize', `${file}'s input ${shapeString(chw)}`);
  }
  const inputChw = chw as unknown as readonly [number, number, number];
  const inputDims = (nhwcInput ? [chw[1], chw[2], chw[0]] : [...chw]) as unknown as readonly [number, number, number];

  // outputs to add
  const existing = new Set(model.graph.outputs.map((o) => o.name));
  const produced = new Set(model.graph.nodes.flatMap((nd) => nd.outputs));
  for (const name of opts.extraOutputs ?? []) {
    if (!produced.has(name)) {
      throw new NapoodError('extraOutputs', `names of tensors computed by ${file} (candidates: ${analysis.candidateLayers.slice(-4).map((s) => describe(s)).join(', ')})`, describe(name));
    }
  }
  const wanted = [analysis.featureMap, analysis.pooled, analysis.logits, ...(opts.extraOutputs ?? [])]
    .filter((x): x is string => x !== undefined);
  const added: string[] = [];
  for (const name of wanted) {
    if (!existing.has(name) && !added.includes(name)) added.push(name);
  }
  // names only: onnxruntime infers the type of an output from the node that computes it
  const edited = appendGraphOutputs(bytes, added.map((name) => ({ name })));
  const session = await createSession(runtime, edited, file, opts.threads);
  const inputName = analysis.input.name;

  if (fixedBatch !== undefined) {
    analysis = { ...analysis, reasoning: [...analysis.reasoning, `the batch size is fixed at ${fixedBatch} (exported without a dynamic batch axis): images run in slices of ${fixedBatch}`] };
  }
  const runRaw = async (input: Float32Array, n: number): Promise<Record<string, RunOutput>> => {
    try {
      // every output is fetched: onnxruntime's Node binding ≤ 1.23 returns a fetched subset under the wrong
      // names (microsoft/onnxruntime#26865, fixed by PR #26939)
      return await runRows(runtime, session, { [inputName]: { data: input, rowDims: inputDims } }, n, fixedBatch);
    } catch (e) {
      throw new NapoodError(file, 'a model that onnxruntime runs on the input', ortMessage(e));
    }
  };

  // probe run: shapes of the feature map, pooled tensor and logits; AveragePool coverage
  const probe = await runRaw(new Float32Array(per), 1);
  const fmDims = probe[analysis.featureMap]!.dims;
  if (fmDims.length !== 4) {
    throw new NapoodError(analysis.featureLayerOverride ? 'featureLayer' : file,
      `a 4-D feature map [N, C, H, W] at ${describe(analysis.featureMap)}`, `shape ${shapeString(fmDims)}`);
  }
  const nhwcMap = analysis.featureLayout === 'nhwc';
  const featureShape = (nhwcMap ? [fmDims[3]!, fmDims[1]!, fmDims[2]!] : [fmDims[1]!, fmDims[2]!, fmDims[3]!]) as readonly [number, number, number];
  const logitDims = probe[analysis.logits]!.dims;
  if (logitDims.length !== 2) throw new NapoodError(file, `logits [N, K] at ${describe(analysis.logits)}`, `shape ${shapeString(logitDims)}`);
  const numClasses = logitDims[1]!;
  let pooledDim: number | undefined;
  if (analysis.pooled !== undefined) {
    const pd = probe[analysis.pooled]!.dims;
    pooledDim = pd.slice(1).reduce((a, b) => a * b, 1);
    const nhwcPool = analysis.pool?.layout === 'nhwc';
    if (!(pd.length === 2 || (pd.length === 4 && (nhwcPool ? pd[1] === 1 && pd[2] === 1 : pd[2] === 1 && pd[3] === 1)))) {
      throw new NapoodError(file, `a pooled feature [N, C] at ${describe(analysis.pooled)}`, `shape ${shapeString(pd)}`);
    }
    if (analysis.pool?.kind === 'AveragePool' && !analysis.featureLayerOverride) {
      const k = analysis.pool.kernel!;
      if (k[0] !== featureShape[1] || k[1] !== featureShape[2]) {
        throw new NapoodError(file, `the AveragePool ${describe(analysis.pool.node)} before the classifier to cover the whole ${featureShape[1]}×${featureShape[2]} map`,
          `kernel [${k.join(', ')}]: the classifier reads the map itself, not a global pooling of it (as VGG's AdaptiveAvgPool2d((7, 7)) on a 7×7 map); ` +
          `to score NAP on that map name it: featureLayer ${describe(analysis.featureMap)} (CLI: --feature-layer ${describe(analysis.featureMap)})`);
      }
      analysis = { ...analysis, reasoning: [...analysis.reasoning, `AveragePool kernel [${k.join(', ')}] covers the ${featureShape[1]}×${featureShape[2]} map`] };
    }
  }
  if (analysis.linear !== undefined && (analysis.linear.c !== pooledDim || analysis.linear.k !== numClasses)) {
    throw new NapoodError(file, `a head weight [${numClasses}, ${pooledDim}]`, `[${analysis.linear.k}, ${analysis.linear.c}]`);
  }

  // the largest row of any batch tensor (input, feature map, pooled, logits, extra outputs)
  let rowValues = per;
  for (const t of Object.values(probe)) {
    if (t.dims.length > 0 && (t.dims[0] === 1 || t.dims[0] === fixedBatch)) rowValues = Math.max(rowValues, t.dims.slice(1).reduce((a, b) => a * b, 1));
  }
  const rowText = `${file}'s largest tensor per image (${grouped(rowValues)} values)`;
  if (batchSize !== undefined) checkBatchRows(batchSize, rowValues, 'batchSize', rowText);

  const info: OnnxModelInfo = { ...analysis, file, inputChw, inputDims, featureShape, pooledDim, numClasses, addedOutputs: added, extraOutputs: [...(opts.extraOutputs ?? [])], fixedBatch };

  // head
  let head: Head | undefined;
  let headSession: OnnxSession | undefined;
  if (analysis.pooled !== undefined && pooledDim !== undefined) {
    const c = pooledDim;
    const k = numClasses;
    if (analysis.linear !== undefined) {
      const linear: LinearHead = { weight: analysis.linear.weight, bias: analysis.linear.bias, k, c };
      head = linearHead(linear.weight, linear.bias, k, c);
    } else {
      const sub = headSubModel(model, analysis, c);
      const hs = await createSession(runtime, sub, `${file} (head sub-model)`, opts.threads);
      headSession = hs;
      const pooledName = analysis.pooled;
      const rank4 = analysis.pooledRank === 4;
      const rank4Shape = (n: number) => (analysis.pool?.layout === 'nhwc' ? [n, 1, 1, c] : [n, c, 1, 1]);
      const logitsName = analysis.logits;
      head = {
        k, c,
        forward: async (z: Float32Array, n: number): Promise<Float32Array> => {
          if (z.length !== n * c) throw new NapoodError('z', `${n}×${c} = ${n * c} pooled values`, `${z.length}`);
          if (n === 0) return new Float32Array(0);
          const rowDims = rank4 ? rank4Shape(1).slice(1) : [c];
          const r = await runRows(runtime, hs, { [pooledName]: { data: z, rowDims } }, n, fixedBatch);
          return floatOutput(r[logitsName], logitsName, `${file} (head sub-model)`);
        },
      };
    }
  }

  const run = async (input: Float32Array, n: number, shape?: readonly number[]): Promise<OnnxRunResult> => {
    const expected = `${nhwcInput ? 'NHWC' : 'NCHW'} float32 input [N, ${inputDims.join(', ')}]`;
    if (!Number.isInteger(n) || n < 0) throw new NapoodError('n', 'a batch size ≥ 0', describe(n));
    checkBatchRows(n, rowValues, 'n', rowText);
    if (shape !== undefined) {
      const dimsGiven = shape.length === 4 ? shape.slice(1) : shape;
      if ((shape.length === 4 && shape[0] !== n) || dimsGiven.length !== 3 || dimsGiven.some((d, i) => d !== inputDims[i])) {
        throw new NapoodError(file, `${expected} with N = ${n}`, `input of shape ${shapeString(shape)}`);
      }
    }
    if (input.length !== n * per) {
      throw new NapoodError(file, `${expected}: ${n} × ${per} = ${n * per} values`, `${input.length} values`);
    }
    const [fc, fh, fw] = featureShape;
    if (n === 0) {
      return {
        n: 0,
        featureMap: { data: new Float32Array(0), c: fc, h: fh, w: fw },
        pooled: pooledDim !== undefined ? { data: new Float32Array(0), c: pooledDim } : undefined,
        logits: { data: new Float32Array(0), k: numClasses },
        extra: Object.fromEntries((opts.extraOutputs ?? []).map((e) => [e, { data: new Float32Array(0), dims: [0] }])),
      };
    }
    const r = await runRaw(input, n);
    const map = floatOutput(r[analysis.featureMap], analysis.featureMap, file);
    const extra: Record<string, ExtraOutput> = {};
    for (const name of opts.extraOutputs ?? []) extra[name] = { data: floatOutput(r[name], name, file), dims: r[name]!.dims };
    return {
      n,
      featureMap: { data: nhwcMap ? nhwcToNchw(map, n, fh, fw, fc) : map, c: fc, h: fh, w: fw },
      pooled: analysis.pooled !== undefined ? { data: floatOutput(r[analysis.pooled], analysis.pooled, file), c: pooledDim! } : undefined,
      logits: { data: floatOutput(r[analysis.logits], analysis.logits, file), k: numClasses },
      extra,
    };
  };

  return {
    info,
    head,
    modelBytes: edited,
    runtime,
    run,
    release: async () => {
      await session.release();
      if (headSession !== undefined) await headSession.release();
    },
  };
}
