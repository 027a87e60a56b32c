/**
 * Top-1 accuracy of logits (SPEC §1: ID accuracy of the possibly modified logits).
 * accuracy = share of rows whose argmax equals the label, over rows with label ≥ 0 (rows with a
 * negative label are unknown and skipped); NaN when no row is left. The argmax is numpy's: the
 * first maximum on ties, and the first NaN if the row has one.
 */
import { NapoodError } from '../errors.js';

/** Argmax of row `row` of an n×k matrix (numpy semantics: first max, NaN wins). */
export function argmaxRow(logits: Float32Array, k: number, row: number): number {
  const base = row * k;
  let best = logits[base];
  if (best !== best) return 0;
  let arg = 0;
  for (let j = 1; j < k; j++) {
    const v = logits[base + j];
    if (v > best) {
      best = v;
      arg = j;
    } else if (v !== v) {
      return j;
    }
  }
  return arg;
}

/** Share of labelled rows (label ≥ 0) whose argmax equals the label; NaN if none is labelled. */
export function accuracy(logits: Float32Array, k: number, labels: Int32Array): number {
  if (!Number.isInteger(k) || k < 1) throw new NapoodError('k', 'a positive integer number of classes', String(k));
  if (logits.length % k !== 0) {
    throw new NapoodError('logits', `a length that is a multiple of k = ${k}`, `length ${logits.length}`);
  }
  const n = logits.length / k;
  if (labels.length !== n) {
    throw new NapoodError('labels', `one label per logits row (${n})`, `${labels.length} labels`);
  }
  let counted = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    if (label < 0) continue;
    if (label >= k) throw new NapoodError(`labels[${i}]`, `a class index in [0, ${k - 1}] or −1`, String(label));
    counted++;
    if (argmaxRow(logits, k, i) === label) correct++;
  }
  return counted === 0 ? NaN : correct / counted;
}
