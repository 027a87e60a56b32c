/**
 * Tuning and calibration on an OodModel (its `tune` and `calibrate` methods), and the detector
 * description built from them:
 *
 *   const report = await od.tune(valImages, { train, methods: 'nap,energy,nap-e,nap-r' });
 *   const detector = await od.calibrate(calImages, { tpr: 0.95 });   // held-out ID images
 *   const bytes = await detector.bytes();                            // the detector file
 *
 * `tune` scores ID-val and its corrupted copies once (app/tune.ts), keeps the chosen method with
 * its fitted state as the model's method. `calibrate` scores the held-out ID calibration set with
 * it (refused when too small for the target TPR, before any work when its size is known, and when
 * it shares images with the ID-val set of the tuning) and returns the Detector. Without tune (a
 * method the user fixed: `od.fit('nap-e:w=0.5', train)`, then `od.calibrate(cal)`), the
 * detector has no tune report and says it was fixed by the user (`chosenBy: 'user'`).
 */
import { NapoodError } from '../errors.js';
import type { Preprocess } from '../images/preprocess.js';
import type { OnnxClassifier, OnnxModelInfo } from '../onnx/adapter.js';
import { checkSources, scoreSource, type BatchSource, type FittedMethod } from '../run/pipeline.js';
import { parseMethodList, parseMethodSpec } from '../run/spec.js';
import type { Head, NapoodEvents } from '../types.js';
import { alphaOfTpr, calibrate, minCalibrationSize, type CalibrationOptions } from './calibrate.js';
import { Detector } from './detector.js';
import type { DetectorData } from './detector-file.js';
import { nonFiniteOf } from './evaluate.js';
import { imageSourcesOf, type ImageEntry } from './image-set.js';
import type { ModelSource } from './model-source.js';
import { pseudoOodInfo, pseudoOodSource, type PseudoOodOptions } from './pseudo-ood.js';
import { DEFAULT_TUNE_CANDIDATES, tuneMethods, usableCandidates, type TuneOptions, type TuneResult } from './tune.js';
import type { ImageDecoder } from '../images/decoder.js';

type AnySet = BatchSource | readonly ImageEntry[];

export interface TuneApiOptions extends TuneOptions, Pick<PseudoOodOptions, 'corruptions' | 'severities' | 'assignment' | 'seed' | 'params'> {
  /** Candidate methods (default DEFAULT_TUNE_CANDIDATES, less those the sets cannot score). */
  readonly methods?: string | readonly string[];
  /** ID-train data for candidates that fit statistics. */
  readonly train?: AnySet;
  /** A pseudo-OOD set of your own instead of corrupted ID-val images (needed when ID-val is not images). */
  readonly pseudoOod?: AnySet;
  /** Real OOD sets, reported separately (the test-optimal w; research only, never used to choose). */
  readonly oracle?: Readonly<Record<string, AnySet>>;
}

export interface CalibrateApiOptions extends Pick<CalibrationOptions, 'tpr' | 'bootstrap' | 'seed'> {
  /** Which of the model's methods (default: its only one, e.g. the one tune chose). */
  readonly method?: string;
}

/** What tune and calibrate need of an OodModel. */
export interface ModelHooks {
  readonly classifier: OnnxClassifier;
  readonly preprocess: Preprocess;
  readonly decoder?: ImageDecoder;
  readonly batchSize?: number;
  readonly threads?: number;
  readonly events?: NapoodEvents;
  readonly modelSha256?: string;
  readonly access?: PseudoOodOptions['access'];
  toSource(set: AnySet, label: string, withLabels: boolean): BatchSource;
}

function isSource(set: AnySet): set is BatchSource {
  return !Array.isArray(set) && typeof (set as BatchSource).batches === 'function';
}

export async function tuneModel(h: ModelHooks, val: AnySet, opts: TuneApiOptions = {}): Promise<TuneResult & { classes?: readonly string[] }> {
  const head = h.classifier.head;
  if (opts.pseudoOod === undefined && isSource(val)) {
    throw new NapoodError('val', 'ID-val images to corrupt into pseudo-OOD data (image bytes, pixels or named entries), or a pseudoOod set of your own', `a batch source (${val.label})`);
  }
  const valSource = h.toSource(val, 'val', false);
  const pseudo = opts.pseudoOod !== undefined
    ? h.toSource(opts.pseudoOod, 'pseudo-OOD', false)
    : pseudoOodSource(h.classifier, imageSourcesOf(val as readonly ImageEntry[], 'val'), h.preprocess, {
      corruptions: opts.corruptions, severities: opts.severities, assignment: opts.assignment, seed: opts.seed, params: opts.params,
      decoder: h.decoder, batchSize: h.batchSize, access: h.access, events: h.events,
    });
  const info = opts.pseudoOod !== undefined ? { path: pseudo.label } : pseudoOodInfo((val as readonly ImageEntry[]).length, opts);
  const train = opts.train === undefined ? undefined : h.toSource(opts.train, 'train', true);
  const oracle = Object.entries(opts.oracle ?? {}).map(([name, set]) => ({ name, source: h.toSource(set, name, false) }));
  const asked = opts.methods === undefined ? undefined : typeof opts.methods === 'string' ? opts.methods : opts.methods.join(',');
  let candidates = parseMethodList(asked ?? DEFAULT_TUNE_CANDIDATES, 'methods');
  let leftOut: { method: string; reason: string }[] = [];
  if (asked === undefined) ({ usable: candidates, leftOut } = usableCandidates(candidates, [valSource, pseudo, ...oracle.map((o) => o.source)], train, head));
  for (const l of leftOut) h.events?.note?.(`tune: left out ${l.method} (${l.reason})`);
  const result = await tuneMethods(candidates, {
    val: valSource, pseudoOod: pseudo, train, head, oracle, valPath: valSource.label, pseudoOodInfo: info, model: h.classifier.info.file,
  }, { criterion: opts.criterion, gridStep: opts.gridStep, tolerance: opts.tolerance, napP: opts.napP, events: h.events });
  for (const s of [valSource, pseudo]) {
    const note = (s as ModelSource).summary?.();
    if (note) h.events?.note?.(note);
  }
  if (leftOut.length) result.report.left_out = leftOut;
  const classes = (train as ModelSource | undefined)?.classes;
  return { ...result, ...(classes?.length ? { classes } : {}) };
}

/** Pick the method to calibrate: the one named, or the model's only one. */
export function methodToCalibrate(fitted: readonly FittedMethod[], method: string | undefined): FittedMethod {
  if (method !== undefined) {
    const text = parseMethodSpec(method, 'method').text;
    const m = fitted.find((f) => f.spec.text === text);
    if (!m) throw new NapoodError('method', `one of the model's methods (${fitted.map((f) => f.spec.text).join(', ') || 'none'})`, JSON.stringify(method));
    return m;
  }
  if (fitted.length !== 1) throw new NapoodError('method', 'one method to calibrate (tune chooses one; or name it: calibrate(cal, { method }))', fitted.length ? fitted.map((f) => f.spec.text).join(', ') : 'none');
  return fitted[0]!;
}

/** Refuse a set too small for the target TPR before scoring it (its size is an upper bound). */
export function checkCalibrationSize(n: number, tpr: number, argument: string, upperBound: boolean): void {
  const need = minCalibrationSize(alphaOfTpr(tpr));
  if (n < need) {
    throw new NapoodError(argument, `at least ${need} ID images for a threshold at TPR ${100 * tpr} % (n ≥ 1/(1 − TPR) − 1; with fewer no input could be called OOD at that level)`, `${upperBound ? 'at most ' : ''}${n}`);
  }
}

/** Scores of one method on the calibration set, checked (finite, big enough, not shared with ID-val). */
export async function calibrationScores(method: FittedMethod, cal: BatchSource, head: Head | undefined, opts: { tpr: number; valNames?: readonly string[]; events?: NapoodEvents }): Promise<Float64Array> {
  checkCalibrationSize(cal.n, opts.tpr, cal.label, Boolean(cal.mayShrink));
  checkSources([method.spec], [cal], undefined, head, true);
  const run = await scoreSource([method], cal, head, opts.events?.progress);
  const scores = run.results[0]!.scores;
  const bad = nonFiniteOf(scores);
  if (bad.count) throw new NapoodError(method.spec.text, 'finite scores', `${bad.count} of ${scores.length} NaN or ±Inf on ${cal.label} (first at row ${bad.first})`);
  if (opts.valNames && run.paths) {
    const val = new Set(opts.valNames);
    const shared = run.paths.filter((p) => val.has(p));
    if (shared.length) throw new NapoodError(cal.label, 'held-out ID images, none of them used for tuning (ID-val)', `${shared.length} shared with the ID-val set (first: ${shared[0]})`);
  }
  const note = (cal as ModelSource).summary?.();
  if (note) opts.events?.note?.(note);
  return scores;
}

/** What a detector file says of the model it was made with: file, sha256, input signature, feature-map tensor, feature shapes. */
export function detectorModelPart(info: OnnxModelInfo, sha256?: string): Pick<DetectorData, 'model' | 'source' | 'features'> {
  return {
    model: {
      file: info.file, ...(sha256 ? { sha256 } : {}),
      input: { name: info.input.name, dims: [...info.inputDims], layout: info.inputLayout }, featureMapTensor: info.featureMap,
    },
    source: 'model',
    features: { featureMap: [...info.featureShape], ...(info.pooledDim !== undefined ? { pooled: info.pooledDim } : {}), classes: info.numClasses },
  };
}

export async function calibrateModel(h: ModelHooks, fitted: readonly FittedMethod[], cal: AnySet, opts: CalibrateApiOptions & { tuned?: TuneResult & { classes?: readonly string[] }; classes?: readonly string[] } = {}): Promise<Detector> {
  const method = methodToCalibrate(fitted, opts.method);
  const tpr = opts.tpr ?? 0.95;
  alphaOfTpr(tpr);
  const source = h.toSource(cal, 'calibration', false);
  const scores = await calibrationScores(method, source, h.classifier.head, { tpr, valNames: opts.tuned?.valNames, events: h.events });
  const calibration = calibrate(scores, { tpr, bootstrap: opts.bootstrap, seed: opts.seed, argument: source.label });
  const classes = opts.classes ?? opts.tuned?.classes;
  // The tune report goes with the method tune chose; any other method was fixed by the user.
  const tunedHere = opts.tuned !== undefined && opts.tuned.chosen.spec.text === method.spec.text;
  const data: DetectorData = {
    ...detectorModelPart(h.classifier.info, h.modelSha256),
    ...(classes?.length ? { classes } : {}),
    preprocess: h.preprocess,
    method,
    calibration,
    calibrationSet: source.label,
    ...(tunedHere ? { tune: opts.tuned!.report } : {}),
    chosenBy: tunedHere ? 'tune' : 'user',
  };
  return new Detector(data, { classifier: h.classifier, modelSha256: h.modelSha256, decoder: h.decoder, batchSize: h.batchSize, threads: h.threads, events: h.events });
}
