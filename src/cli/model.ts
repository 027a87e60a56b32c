/**
 * ONNX models in the CLI: loading with the user's layer choices, `napood inspect`'s report, and
 * model-backed batch sources (a preprocessed NCHW tensor from .npy, or images). A forward pass runs
 * once per batch and every method scores that batch; multi-pass fits replay cached pooled
 * features instead of running the model again.
 */
import { NapoodError, shapeString } from '../errors.js';
import type { BatchSource, Field } from '../core/pipeline.js';
import { readNpyHeader, npyTensor } from '../io/npy.js';
import { TensorReader, rowElements } from '../io/tensor.js';
import { loadOnnxModel, type OnnxClassifier } from '../onnx/adapter.js';
import type { FeatureBatch } from '../types.js';

export interface ModelChoices {
  readonly featureLayer?: string;
  readonly layers?: readonly string[];
  readonly threads?: number;
}

export async function openModel(path: string, choices: ModelChoices = {}): Promise<OnnxClassifier> {
  return loadOnnxModel(path, { featureLayer: choices.featureLayer, extraOutputs: choices.layers, threads: choices.threads });
}

/** The report of `napood inspect`, as plain data (printed as text or JSON). */
export function inspectReport(model: OnnxClassifier): Record<string, unknown> {
  const info = model.info;
  return {
    file: info.file,
    input: { name: info.input.name, shape: info.input.shape.map((d) => (d === null ? 'N' : d)), type: 'float32', chw: info.inputChw },
    featureMap: { tensor: info.featureMap, shape: info.featureShape, chosenBy: info.featureLayerOverride ? 'user (--feature-layer)' : 'pooling before the classifier' },
    pooling: info.pool ? { op: info.pool.kind, node: info.pool.node, output: info.pool.output, then: info.pool.reshapeOps } : null,
    pooled: info.pooled ? { tensor: info.pooled, size: info.pooledDim } : null,
    head: info.headKind
      ? { kind: info.headKind, ops: info.headOps, ...(info.linear ? { weight: [info.linear.k, info.linear.c], bias: [info.linear.k] } : { runAs: 'a sub-model of its own (ReAct / ASH / SCALE run it on modified features)' }) }
      : null,
    logits: { tensor: info.logits, classes: info.numClasses, isGraphOutput: info.logitsIsGraphOutput },
    candidateLayers: info.candidateLayers,
    addedOutputs: info.addedOutputs,
    reasoning: info.reasoning,
  };
}

export function inspectText(model: OnnxClassifier): string {
  const info = model.info;
  const lines = [
    `model:        ${info.file}`,
    `input:        ${JSON.stringify(info.input.name)} [N, ${info.inputChw.join(', ')}] float32`,
    `feature map:  ${JSON.stringify(info.featureMap)} [C, H, W] = [${info.featureShape.join(', ')}]${info.featureLayerOverride ? ' (chosen with --feature-layer)' : ''}`,
    `pooling:      ${info.pool ? `${info.pool.kind} ${JSON.stringify(info.pool.node)}${info.pool.reshapeOps.length ? ' → ' + info.pool.reshapeOps.join(' → ') : ''}` : 'none found'}`,
    `pooled z:     ${info.pooled ? `${JSON.stringify(info.pooled)} [${info.pooledDim}]` : 'none'}`,
    `head:         ${info.headKind === 'linear' ? `linear (${info.headOps.join(' → ')}), W [${info.linear!.k}, ${info.linear!.c}], b [${info.linear!.k}]` : info.headKind === 'mlp' ? `${info.headOps.join(' → ')} (not one linear layer: runs as its own sub-model; DICE and ViM need a linear head)` : 'none'}`,
    `logits:       ${JSON.stringify(info.logits)} [${info.numClasses}]${info.logitsIsGraphOutput ? '' : ' (before the final softmax)'}`,
    `layers for multi-layer NAP: ${info.candidateLayers.map((l) => JSON.stringify(l)).join(', ') || 'none'}`,
    'reasoning:',
    ...info.reasoning.map((r) => `  - ${r}`),
  ];
  return lines.join('\n') + '\n';
}

/** A batch from a model run: the FeatureBatch plus the named extra layers. */
export interface ModelBatch extends FeatureBatch {
  readonly extra: Readonly<Record<string, { readonly data: Float32Array; readonly dims: readonly number[] }>>;
  readonly paths?: readonly string[];
}

export interface ModelSource extends BatchSource {
  batches(): AsyncIterable<ModelBatch>;
  close(): void;
}

function batchFromRun(r: Awaited<ReturnType<OnnxClassifier['run']>>, labels: Int32Array | undefined, input: Float32Array, paths?: readonly string[]): ModelBatch {
  return { n: r.n, featureMap: r.featureMap, pooled: r.pooled, logits: r.logits, labels, input, extra: r.extra, paths };
}

/** A preprocessed NCHW float32 tensor in a .npy file, run through the model in batches. */
export function inputArraySource(model: OnnxClassifier, npyPath: string, argument: string, batchSize: number, labelsPath?: string): ModelSource {
  const t = npyTensor(readNpyHeader(npyPath, argument), 'input');
  const chw = model.info.inputChw;
  if (t.shape.length !== 4 || t.shape[1] !== chw[0] || t.shape[2] !== chw[1] || t.shape[3] !== chw[2]) {
    throw new NapoodError(argument, `a preprocessed NCHW tensor [N, ${chw.join(', ')}] for ${model.info.file}`, `shape ${shapeString(t.shape)} in ${npyPath}`);
  }
  const n = t.shape[0];
  if (n === 0) throw new NapoodError(argument, 'at least one image', `an empty tensor in ${npyPath}`);
  let labels: Int32Array | undefined;
  if (labelsPath) {
    const lt = npyTensor(readNpyHeader(labelsPath, '--labels'), 'labels');
    if (lt.shape.length !== 1 || lt.shape[0] !== n) throw new NapoodError('--labels', `a 1-D array of ${n} labels`, `shape ${shapeString(lt.shape)}`);
    const reader = new TensorReader();
    const raw = reader.readFloat64(lt, 0, n);
    reader.close();
    labels = Int32Array.from(raw);
  }
  const reader = new TensorReader();
  const per = rowElements(t);
  return {
    label: `${argument} ${npyPath}`,
    n,
    hasModel: true,
    head: model.head,
    has: (field: Field) => field === 'labels' ? labels !== undefined : field === 'pooled' ? model.info.pooled !== undefined : true,
    async *batches() {
      for (let start = 0; start < n; start += batchSize) {
        const count = Math.min(batchSize, n - start);
        const input = reader.readFloat32(t, start, count, new Float32Array(count * per));
        const r = await model.run(input, count);
        yield batchFromRun(r, labels?.subarray(start, start + count), input);
      }
    },
    close: () => reader.close(),
  };
}
