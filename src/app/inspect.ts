/** What napood finds in an ONNX model (`napood inspect`), as plain data and as text. */
import type { OnnxClassifier } from '../onnx/adapter.js';

/** The report of `napood inspect`, as plain data (printed as text or JSON). */
export function inspectReport(model: OnnxClassifier): Record<string, unknown> {
  const info = model.info;
  return {
    file: info.file,
    input: { name: info.input.name, shape: info.input.shape.map((d) => (d === null ? 'N' : d)), type: 'float32', chw: info.inputChw, layout: info.inputLayout, fixedBatch: info.fixedBatch ?? null },
    featureMap: { tensor: info.featureMap, shape: info.featureShape, layoutInGraph: info.featureLayout, chosenBy: info.featureLayerOverride ? 'user (--feature-layer)' : 'pooling before the classifier' },
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
    `input:        ${JSON.stringify(info.input.name)} [${info.fixedBatch ?? 'N'}, ${info.inputDims.join(', ')}] float32${info.inputLayout === 'nhwc' ? ' (NHWC: channels last; images are fed that way)' : ''}${info.fixedBatch !== undefined ? ` (fixed batch: runs in slices of ${info.fixedBatch})` : ''}${info.input.shape.slice(1).some((d) => typeof d !== 'number') ? ' (size not fixed by the model: from --input-shape or the preprocessing)' : ''}`,
    `feature map:  ${JSON.stringify(info.featureMap)} [C, H, W] = [${info.featureShape.join(', ')}]${info.featureLayout === 'nhwc' ? ' (channels last in the graph, read as NCHW)' : ''}${info.featureLayerOverride ? ' (chosen with --feature-layer)' : ''}`,
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

