/** Accessors that fail with a clear message when a batch lacks what a method needs. */
import { NapoodError } from '../errors.js';
import type { FeatureBatch, FeatureMap, Head, LinearHead } from '../types.js';

export function requireFeatureMap(batch: FeatureBatch, method: string): FeatureMap {
  if (!batch.featureMap) throw new NapoodError(method, 'a featureMap [N,C,H,W] (the map before global pooling)', 'none in the input');
  return batch.featureMap;
}

export function requirePooled(batch: FeatureBatch, method: string): { data: Float32Array; c: number } {
  if (!batch.pooled) throw new NapoodError(method, 'pooled features [N,C] (or a featureMap to pool)', 'none in the input');
  return batch.pooled;
}

export function requireLogits(batch: FeatureBatch, method: string): { data: Float32Array; k: number } {
  if (!batch.logits) throw new NapoodError(method, 'logits [N,K]', 'none in the input');
  return batch.logits;
}

export function requireHead(head: Head | undefined, method: string): Head {
  if (!head) throw new NapoodError(method, 'the classifier head (head.weight [K,C] and head.bias [K], or --head FILE)', 'no head');
  return head;
}

export function requireLinearHead(head: Head | undefined, method: string): LinearHead {
  if (!head?.linear) throw new NapoodError(method, 'a single linear classifier head (head.weight [K,C], head.bias [K])', head ? 'a head that is not one linear layer' : 'no head');
  return head.linear;
}

export function requireLabels(batch: FeatureBatch, method: string): Int32Array {
  if (!batch.labels) throw new NapoodError(method, 'labels [N] in the ID-train data', 'none');
  return batch.labels;
}
