/**
 * Checks across the sets of a run, before any work: that feature sets agree with the head and each
 * other, that a dump matches the model it is read with, and (after a run) that the fit set looks
 * like the ID set. Refusals throw NapoodError; doubts go to `events.warning`.
 */
import { NapoodError, shapeString } from '../errors.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { Head, LinearHead, NapoodEvents } from '../types.js';

/** What a check needs to know of a feature set. */
export interface SetShape {
  readonly label: string;
  /** Pooled feature channels C, when known. */
  readonly channels?: number;
  /** Classes K, when known. */
  readonly classes?: number;
}

/**
 * Every set must agree on C (and K where known) with the head and with each other. `headLabel`
 * names a head that came from its own file (e.g. `--head head.safetensors`): the sets are then
 * checked against each other first, and a head that does not fit them is the one blamed, by that
 * name. Without it, the head (which a set carries) is the reference the sets are compared with.
 */
export function checkCompatible(head: Head | undefined, sets: readonly (SetShape | undefined)[], headLabel?: string): void {
  const named = headLabel !== undefined && head !== undefined;
  let ref: { c?: number; k?: number; cFrom?: string; kFrom?: string } | undefined = head && !named ? { c: head.c, k: head.k, cFrom: 'the head', kFrom: 'the head' } : undefined;
  for (const s of sets) {
    if (!s) continue;
    const { channels: c, classes: k } = s;
    if (!ref) { ref = { c, k, cFrom: c !== undefined ? s.label : undefined, kFrom: k !== undefined ? s.label : undefined }; continue; }
    if (ref.c !== undefined && c !== undefined && ref.c !== c) throw new NapoodError(s.label, `${ref.c} feature channels (as ${ref.cFrom})`, `${c}`);
    if (ref.k !== undefined && k !== undefined && ref.k !== k) throw new NapoodError(s.label, `${ref.k} classes (as ${ref.kFrom})`, `${k}`);
    if (ref.c === undefined && c !== undefined) ref = { ...ref, c, cFrom: s.label };
    if (ref.k === undefined && k !== undefined) ref = { ...ref, k, kFrom: s.label };
  }
  if (named && ref) {
    const shape = `head.weight [${head.k}, ${head.c}] (K classes × C channels)`;
    if (ref.c !== undefined && ref.c !== head.c) throw new NapoodError(headLabel, `a head for ${ref.c} feature channels (as ${ref.cFrom} has)`, shape);
    if (ref.k !== undefined && ref.k !== head.k) throw new NapoodError(headLabel, `a head of ${ref.k} classes (as the logits of ${ref.kFrom})`, shape);
  }
}

/** Largest relative difference between two linear heads (Infinity when their shapes differ). */
export function headDifference(a: LinearHead, b: LinearHead): number {
  if (a.k !== b.k || a.c !== b.c) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.weight.length; i++) worst = Math.max(worst, Math.abs(a.weight[i]! - b.weight[i]!) / Math.max(1, Math.abs(b.weight[i]!)));
  for (let i = 0; i < a.bias.length; i++) worst = Math.max(worst, Math.abs(a.bias[i]! - b.bias[i]!) / Math.max(1, Math.abs(b.bias[i]!)));
  return worst;
}

/** What napood knows of a dump before reading rows. */
export interface DumpShape extends SetShape {
  /** [N, C, H, W] of its feature map, when it has one. */
  readonly featureMapShape?: readonly number[];
  linearHead(): LinearHead | undefined;
}

/**
 * A dump read next to a model must hold that model's features: the feature map [C, H, W], the
 * pooled size and the number of classes as the model gives them. The model's head is used; a
 * dump carrying a different head is reported (it was probably made with another model).
 */
export function checkDumpMatchesModel(dump: DumpShape, model: OnnxClassifier, events?: NapoodEvents): void {
  const info = model.info;
  const label = dump.label;
  const made = `as ${info.file} gives (a dump made with this model, e.g. by napood dump --model)`;
  const fm = dump.featureMapShape;
  const [c, h, w] = info.featureShape;
  if (fm && (fm[1] !== c || fm[2] !== h || fm[3] !== w)) {
    throw new NapoodError(label, `a feature map [N, ${c}, ${h}, ${w}] ${made}`, `featureMap ${shapeString(fm)}`);
  }
  const pooled = info.pooledDim ?? c;
  if (dump.channels !== undefined && dump.channels !== pooled) throw new NapoodError(label, `${pooled} feature channels ${made}`, `${dump.channels}`);
  if (dump.classes !== undefined && dump.classes !== info.numClasses) throw new NapoodError(label, `logits of ${info.numClasses} classes ${made}`, `${dump.classes}`);
  const own = dump.linearHead();
  const modelHead = model.head?.linear;
  if (own && modelHead) {
    const worst = headDifference(own, modelHead);
    if (worst > 1e-6) {
      events?.warning?.(`${label}: its head weights differ from ${info.file}'s head (${worst === Infinity ? `[${own.k}, ${own.c}] vs [${modelHead.k}, ${modelHead.c}]` : `max relative difference ${worst.toExponential(2)}`}); the model's head is used; was the dump made with another model?`);
    }
  }
}

/** Mean L2 norm of pooled rows, accumulated over batches (for the fit-vs-ID scale check). */
export class NormMeter {
  private sum = 0;
  private rows = 0;
  add(pooled: Float32Array, c: number): void {
    for (let r = 0; r < pooled.length / c; r++) {
      let s = 0;
      for (let j = r * c; j < (r + 1) * c; j++) s += pooled[j]! * pooled[j]!;
      if (Number.isFinite(s)) { this.sum += Math.sqrt(s); this.rows++; }
    }
  }
  get mean(): number { return this.rows ? this.sum / this.rows : NaN; }
}

/**
 * The ID-train set a method was fitted on must look like the ID test set: a fit set preprocessed
 * without the model's normalisation, say, has pooled features of another scale, and every fitted
 * method is then meaningless. Warn when the mean pooled norms differ by more than `factor`.
 */
export function checkFitScale(fitNorm: number, idNorm: number, events?: NapoodEvents, factor = 10): void {
  if (!(fitNorm > 0) || !(idNorm > 0)) return;
  const ratio = fitNorm > idNorm ? fitNorm / idNorm : idNorm / fitNorm;
  if (ratio > factor) {
    events?.warning?.(`--fit and --id features differ in scale (mean pooled norm ${fitNorm.toPrecision(3)} vs ${idNorm.toPrecision(3)}, ${ratio.toFixed(1)}×): were both sets made with the same model and preprocessing (normalisation)? Fitted methods (mahalanobis, knn, react, …) compare them.`);
  }
}
