/**
 * Bounds napood puts on what a model (or the user) may make it allocate or walk, checked before
 * anything is allocated (issue #10: a crafted model must not hang napood or exhaust memory).
 */

/** Bytes of one tensor napood (or onnxruntime on its behalf) may hold: under 2 GiB, what a typed array and a protobuf message hold. */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** Bytes of one batch tensor (input, feature map, any output) of a run: under 2 GiB. */
export const MAX_BATCH_BYTES = 2 ** 31 - 1;

/** Pixels (H×W) of one model input image: the bound napood puts on decoded images (images/prepare.ts DEFAULT_MAX_PIXELS). */
export const MAX_INPUT_PIXELS = 40_000_000;

/** Nodes of one graph (torchvision's largest classifiers have a few thousand). */
export const MAX_NODES = 1_000_000;

/** Nesting of subgraphs (If / Loop / Scan bodies) in a model. */
export const MAX_GRAPH_DEPTH = 32;

/** Pooling candidates the graph analysis examines before giving up (each costs a walk of the graph). */
export const MAX_POOL_CANDIDATES = 64;

/** Bytes per element of each TensorProto.DataType with fixed-size elements (0.5: 4-bit types, two per byte). */
export const ELEMENT_BYTES: Readonly<Record<number, number>> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
  17: 1, 18: 1, 19: 1, 20: 1, 21: 0.5, 22: 0.5, 23: 0.5,
};

/** Bytes of `numel` elements of `dataType` (sub-byte types rounded up), or undefined for types without a fixed size. */
export function tensorBytes(dataType: number, numel: number): number | undefined {
  const s = ELEMENT_BYTES[dataType];
  return s === undefined ? undefined : Math.ceil(numel * s);
}

/** 1234567890 as "1,234,567,890" (messages). */
export function grouped(n: number): string {
  return Number.isSafeInteger(n) ? n.toLocaleString('en-US') : n.toExponential(3);
}

/** 2147483647 bytes as "2 GiB" and the like (messages). */
export function bytesText(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(n % 2 ** 30 === 0 ? 0 : 1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${grouped(n)} bytes`;
}
