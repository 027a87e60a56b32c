/**
 * The high-level API, runtime-neutral: an ONNX classifier with its preprocessing, the fitted
 * methods, and what a user does with them — fit on ID-train data, score images (file bytes with
 * a decoder, or decoded pixels such as a browser's ImageData) or any batch source, evaluate ID
 * against OOD sets into the report `napood eval` prints, save and load the fitted state.
 *
 *   const od = new OodModel(classifier, { preprocess: 'cifar', decoder });
 *   await od.fit('nap,energy,react', trainImages);
 *   const { scores } = await od.score(images);            // scores['nap'][i], higher = more ID
 *   const report = await od.evaluate(valImages, { textures: texImages });
 *
 * `napood/node` wraps this with paths (folders, @lists, dumps, .npy) and files (src/node/api.ts).
 */
import { NapoodError, describe } from '../errors.js';
import type { ImageDecoder } from '../images/index.js';
import { imageEntrySource, type ImageEntry } from './image-set.js';
import { parsePreprocess, preprocessForModel, PRESETS, type Preprocess, type PreprocessInput } from '../images/preprocess.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import { checkSources, scoreSource, type BatchSource, type FittedMethod } from '../run/pipeline.js';
import { parseMethodList, type MethodSpec } from '../run/spec.js';
import type { NapoodEvents } from '../types.js';
import { evaluate, nonFiniteOf, type EvalSet } from './evaluate.js';
import { fitOrLoad } from './fit.js';
import { modelAccess, type ModelAccessHandle } from './model-access.js';
import { arraySource, type ModelSource } from './model-source.js';
import type { EvalReport } from './report.js';
import { parseStateFile, stateFileText } from './state-file.js';
import { calibrateModel, tuneModel, type CalibrateApiOptions, type ModelHooks, type TuneApiOptions } from './detector-build.js';
import type { Detector } from './detector.js';
import type { TuneReport } from './tune.js';

export type { ImageEntry };

/** What the API takes as a data set: a batch source (a dump, a model source) or images. */
export type DataSet = BatchSource | readonly ImageEntry[];

export interface OodModelOptions {
  /** A preset name (imagenet, cifar, mnist), settings (fields as a --preprocess file), or resolved settings. Default: the model's input size, pixels in [0, 1]. */
  readonly preprocess?: string | PreprocessInput | Preprocess;
  /** Decodes image file bytes (Node: nodeImageDecoder(); a browser: its own). Not needed for decoded pixels. */
  readonly decoder?: ImageDecoder;
  /** Images per forward pass (default 32). */
  readonly batchSize?: number;
  /** onnxruntime threads of gradient models (ODIN). */
  readonly threads?: number;
  /** Warnings, notes and progress. */
  readonly events?: NapoodEvents;
  /** SHA-256 (hex) of the model file, recorded in detector files (napood/node's openModel computes it). */
  readonly modelSha256?: string;
}

export interface Scores {
  /** Rows scored (skipped images are not rows). */
  readonly n: number;
  /** Scores per method spec (e.g. "nap", "react:p=95"), higher = more in-distribution. */
  readonly scores: Readonly<Record<string, Float64Array>>;
  /** The name of each row (image paths, or "#i"), when known. */
  readonly names?: readonly string[];
}

function isSource(set: DataSet): set is BatchSource {
  return !Array.isArray(set) && typeof (set as BatchSource).batches === 'function';
}

/** Resolve the preprocessing option against the model's input. */
export function resolvePreprocess(option: OodModelOptions['preprocess'], classifier: OnnxClassifier): Preprocess {
  const { inputChw, inputLayout } = classifier.info;
  const base = preprocessForModel(inputChw, 'model input', inputLayout);
  if (option === undefined) return base;
  if (typeof option === 'string') {
    const preset = Object.hasOwn(PRESETS, option) ? PRESETS[option] : undefined;
    if (!preset) throw new NapoodError('preprocess', `a preset among ${Object.keys(PRESETS).join(', ')}, or settings`, describe(option));
    return { ...preset, layout: inputLayout };
  }
  return { ...parsePreprocess(option, 'preprocess', base), layout: inputLayout };
}

export class OodModel {
  readonly preprocess: Preprocess;
  private fitted: FittedMethod[] = [];
  private readonly access: ModelAccessHandle;
  private tuned: Awaited<ReturnType<typeof tuneModel>> | undefined;

  constructor(readonly classifier: OnnxClassifier, protected readonly options: OodModelOptions = {}) {
    this.preprocess = resolvePreprocess(options.preprocess, classifier);
    this.access = modelAccess(classifier, this.preprocess.std, options.threads);
  }

  /** The methods fitted (or loaded) so far, with their parameters. */
  get methods(): readonly MethodSpec[] {
    return this.fitted.map((f) => f.spec);
  }

  /** A batch source over images (bytes, pixels or named entries), run through the model. */
  images(set: readonly ImageEntry[], label = 'images', withLabels = false): ModelSource {
    return imageEntrySource(this.classifier, set, this.preprocess, label, { decoder: this.options.decoder, batchSize: this.options.batchSize, access: this.access, events: this.options.events, withLabels });
  }

  /** A preprocessed input tensor in memory ([N, C, H, W], or NHWC for a channels-last model) as a source. */
  tensor(data: Float32Array, shape: readonly number[], labels?: ArrayLike<number>, label = 'tensor'): ModelSource {
    return arraySource(this.classifier, data, shape, { label, labels, batchSize: this.options.batchSize, access: this.access });
  }

  protected toSource(set: DataSet, label: string, withLabels: boolean): BatchSource {
    return isSource(set) ? set : this.images(set, label, withLabels);
  }

  /**
   * Set the methods (a list such as "nap,energy,react:p=95" or an array of specs) and fit those
   * that need ID statistics on `train` (not needed when none does, or after loadState). Forgets a
   * previous tune(): a detector calibrated afterwards says the method was chosen by the user.
   */
  async fit(methods: string | readonly string[], train?: DataSet): Promise<this> {
    const specs = parseMethodList(typeof methods === 'string' ? methods : methods.join(','), 'methods');
    const source = train === undefined ? undefined : this.toSource(train, 'train', true);
    const states = new Map(this.fitted.filter((f) => f.spec.def.fit && f.state !== undefined).map((f) => [f.spec.text, f.state]));
    if (source) checkSources(specs.filter((s) => s.def.fit && !states.has(s.text)), [], source, this.classifier.head);
    this.fitted = await fitOrLoad(specs, { train: source, head: this.classifier.head, states, events: this.options.events });
    this.tuned = undefined; // methods set after tune() are the user's choice: calibrate() then writes no tune report
    return this;
  }

  private requireMethods(): FittedMethod[] {
    if (this.fitted.length === 0) throw new NapoodError('methods', 'methods set with fit(methods, train) or loadState(text)', 'none');
    return this.fitted;
  }

  /** Score every row of a set with every method (one forward pass per batch). */
  async score(set: DataSet | ImageEntry): Promise<Scores> {
    const methods = this.requireMethods();
    const asSet: DataSet = Array.isArray(set) || isSource(set as DataSet) ? set as DataSet : [set as ImageEntry];
    const source = this.toSource(asSet, 'images', false);
    const run = await scoreSource(methods, source, this.classifier.head, this.options.events?.progress);
    const scores: Record<string, Float64Array> = {};
    for (const r of run.results) {
      const bad = nonFiniteOf(r.scores);
      if (bad.count) throw new NapoodError(r.spec.text, 'finite scores', `${bad.count} of ${r.scores.length} NaN or ±Inf (first at row ${bad.first})`);
      scores[r.spec.text] = r.scores;
    }
    const note = (source as ModelSource).summary?.();
    if (note) this.options.events?.note?.(note);
    return { n: run.n, scores, ...(run.paths ? { names: run.paths } : {}) };
  }

  /** ID test set against named OOD sets: the report `napood eval` prints (app/report.ts formats it). */
  async evaluate(id: DataSet, oods: Readonly<Record<string, DataSet>>, opts: { bootstrap?: number; seed?: number; groups?: Readonly<Record<string, string>> } = {}): Promise<EvalReport> {
    const methods = this.requireMethods();
    const sets: EvalSet[] = Object.entries(oods).map(([name, set]) => ({ name, source: this.toSource(set, name, false), group: opts.groups?.[name] }));
    if (sets.length === 0) throw new NapoodError('oods', 'at least one OOD set', 'none');
    const idSource = this.toSource(id, 'id', true);
    checkSources(methods.map((m) => m.spec), [idSource, ...sets.map((s) => s.source)], undefined, this.classifier.head, true);
    const { report } = await evaluate(methods, { source: idSource, path: idSource.label }, sets, {
      head: this.classifier.head, bootstrap: opts.bootstrap, seed: opts.seed, model: this.classifier.info.file, events: this.options.events,
    });
    return report;
  }

  private hooks(): ModelHooks {
    const o = this.options;
    return {
      classifier: this.classifier, preprocess: this.preprocess, decoder: o.decoder, batchSize: o.batchSize, threads: o.threads, events: o.events,
      modelSha256: o.modelSha256, access: this.access, toSource: (set, label, withLabels) => this.toSource(set, label, withLabels),
    };
  }

  /**
   * Choose a method and its NAP-X w without OOD data (app/tune.ts): ID-val images against their
   * corrupted copies, scored once. The chosen method (with its fitted state) becomes the model's
   * method; the report ranks every candidate.
   */
  async tune(val: DataSet, opts: TuneApiOptions = {}): Promise<TuneReport> {
    const result = await tuneModel(this.hooks(), val, opts);
    this.fitted = [result.chosen];
    this.tuned = result;
    return result.report;
  }

  /**
   * Calibrate the model's method on held-out ID data (not used for fitting or tuning): the
   * threshold at `tpr` (default 0.95) and conformal p-values; returns the Detector (its bytes()
   * are the detector file).
   */
  async calibrate(cal: DataSet, opts: CalibrateApiOptions = {}): Promise<Detector> {
    return calibrateModel(this.hooks(), this.requireMethods(), cal, { ...opts, tuned: this.tuned });
  }

  /** The fitted state as the text of a state file (`napood fit --out`, `--state`). */
  stateText(): string {
    return stateFileText(this.requireMethods());
  }

  /**
   * Load fitted states from a state file's text; `methods` (default: every method in the file)
   * says which to use: methods of the list that the file lacks and that need fitting are refused.
   */
  loadState(text: string, methods?: string | readonly string[], what = 'state'): this {
    const states = parseStateFile(text, what, 'state');
    const list = methods === undefined ? [...states.keys()].join(',') : typeof methods === 'string' ? methods : methods.join(',');
    const specs = parseMethodList(list, 'methods');
    const missing = specs.filter((s) => s.def.fit && !states.has(s.text));
    if (missing.length) throw new NapoodError('state', `a fitted state for ${missing.map((s) => s.text).join(', ')}`, `${what} holds ${[...states.keys()].join(', ') || 'none'}`);
    this.fitted = specs.map((s) => ({ spec: s, state: states.get(s.text) }));
    this.tuned = undefined;
    return this;
  }

  /** Release gradient models (ODIN) and the model's sessions. */
  async release(): Promise<void> {
    await this.access.release();
    await this.classifier.release();
  }
}
