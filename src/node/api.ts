/**
 * The high-level API in Node: `openModel(path or bytes)` gives an OodModel (src/app/api.ts)
 * whose sets may also be paths — image files, folders (a folder per class gives labels), @lists,
 * a preprocessed .npy tensor, or a feature dump made with the model — and whose state can be saved
 * to and loaded from files.
 *
 *   import { openModel } from 'napood/node';
 *   const od = await openModel('model.onnx', { preprocess: 'cifar' });
 *   await od.fit('nap,energy,react', 'train/');
 *   const { scores, names } = await od.score('photos/');
 *   const report = await od.evaluate('val/', { textures: 'dtd/' });
 *   await od.saveState('state.json');
 */
import { readRegularFile } from './io/file.js';
import { OodModel, type DataSet, type ImageEntry, type OodModelOptions, type Scores } from '../app/api.js';
import type { EvalReport } from '../app/report.js';
import type { OnnxLoadOptions } from '../onnx/adapter.js';
import { loadOnnxModel } from './onnx.js';
import type { BatchSource } from '../run/pipeline.js';
import { nodeImageDecoder } from './images/loader.js';
import { writeOutputs } from './outputs.js';
import { RunSets, type SetRole } from './sets.js';
import type { CalibrateApiOptions, TuneApiOptions } from '../app/detector-build.js';
import type { TuneReport } from '../app/tune.js';
import { NodeDetector, openImageSources } from './detector.js';
import { sha256Bytes } from './io/sha256.js';

/** A data set in Node: a path (images, folder, @list, .npy, dump), several paths, or what OodModel takes. */
export type NodeDataSet = string | readonly string[] | DataSet;

export interface OpenModelOptions extends OodModelOptions, Pick<OnnxLoadOptions, 'featureLayer' | 'extraOutputs' | 'inputShape'> {
  /** Class names in the model's output order (class folders are mapped through them). */
  readonly classes?: readonly string[];
}

function isPaths(set: NodeDataSet): set is string | readonly string[] {
  return typeof set === 'string' || (Array.isArray(set) && set.length > 0 && set.every((s) => typeof s === 'string'));
}

export interface NodeTuneOptions extends Omit<TuneApiOptions, 'train' | 'pseudoOod' | 'oracle'> {
  readonly train?: NodeDataSet;
  readonly pseudoOod?: NodeDataSet;
  readonly oracle?: Readonly<Record<string, NodeDataSet>>;
}

export class NodeOodModel extends OodModel {
  private readonly sets: RunSets;

  constructor(classifier: OodModel['classifier'], private readonly nodeOptions: OpenModelOptions) {
    super(classifier, { decoder: nodeImageDecoder(), ...nodeOptions });
    this.sets = new RunSets({
      model: classifier,
      preprocess: () => this.preprocess,
      normalisationGiven: true,
      threads: nodeOptions.threads,
      classes: nodeOptions.classes,
      batchSize: nodeOptions.batchSize,
      events: nodeOptions.events,
    });
  }

  private async resolve(set: NodeDataSet, argument: string, role: SetRole): Promise<DataSet> {
    if (!isPaths(set)) return set as DataSet;
    const paths = typeof set === 'string' ? [set] : set;
    if (paths.length === 1) return this.sets.open(paths[0]!, argument, role);
    return this.sets.openModelInput(paths, argument, role);
  }

  override async fit(methods: string | readonly string[], train?: NodeDataSet): Promise<this> {
    return super.fit(methods, train === undefined ? undefined : await this.resolve(train, 'train', 'train'));
  }

  override async score(set: NodeDataSet | ImageEntry): Promise<Scores> {
    return super.score(isPaths(set as NodeDataSet) ? await this.resolve(set as NodeDataSet, 'images', 'features') : set as DataSet);
  }

  override async evaluate(id: NodeDataSet, oods: Readonly<Record<string, NodeDataSet>>, opts: Parameters<OodModel['evaluate']>[2] = {}): Promise<EvalReport> {
    const idSet = await this.resolve(id, 'id', 'id');
    const resolved: Record<string, DataSet> = {};
    for (const [name, set] of Object.entries(oods)) resolved[name] = await this.resolve(set, name, 'ood');
    return super.evaluate(idSet, resolved, opts);
  }

  /** Save the fitted state (JSON, as `napood fit --out`); written whole or not at all. */
  async saveState(path: string): Promise<void> {
    writeOutputs([{ flag: 'state', path, data: new TextEncoder().encode(this.stateText()) }]);
  }

  /** Load a state file (`napood fit --out`, saveState). */
  loadStateFile(path: string, methods?: string | readonly string[]): this {
    const text = new TextDecoder().decode(readRegularFile(path, 'state', 'a readable state file'));
    return this.loadState(text, methods, path);
  }

  /**
   * Tune (OodModel.tune) on ID-val images given as paths (files, folders, @lists, a uint8 .npy);
   * train, pseudoOod and oracle sets may be paths too.
   */
  override async tune(val: NodeDataSet, opts: NodeTuneOptions = {}): Promise<TuneReport> {
    const resolved: TuneApiOptions = {
      ...opts,
      train: opts.train === undefined ? undefined : await this.resolve(opts.train, 'train', 'train'),
      pseudoOod: opts.pseudoOod === undefined ? undefined : await this.resolve(opts.pseudoOod, 'pseudoOod', 'ood'),
      oracle: opts.oracle === undefined ? undefined : Object.fromEntries(await Promise.all(Object.entries(opts.oracle).map(async ([k, v]) => [k, await this.resolve(v, k, 'ood')] as const))),
    };
    if (!isPaths(val)) return super.tune(val as DataSet, resolved);
    if (opts.pseudoOod !== undefined) return super.tune(await this.resolve(val, 'val', 'features'), resolved);
    const images = await openImageSources(typeof val === 'string' ? [val] : val, 'val');
    try {
      return await super.tune(images.sources, resolved);
    } finally {
      images.close();
    }
  }

  /** Calibrate (OodModel.calibrate) on held-out ID data given as paths; the detector can save() itself. */
  override async calibrate(cal: NodeDataSet, opts: CalibrateApiOptions = {}): Promise<NodeDetector> {
    const d = await super.calibrate(await this.resolve(cal, 'calibration', 'features'), { ...opts, ...(this.nodeOptions.classes ? { classes: this.nodeOptions.classes } : {}) });
    return new NodeDetector(d.data, { classifier: this.classifier, modelSha256: this.options.modelSha256, batchSize: this.nodeOptions.batchSize, threads: this.nodeOptions.threads, events: this.nodeOptions.events });
  }

  /** A batch source from a path (for users who build their own runs). */
  async open(path: string, role: SetRole = 'features'): Promise<BatchSource> {
    return this.sets.open(path, role, role);
  }

  override async release(): Promise<void> {
    try { await this.sets.close(); } finally { await super.release(); }
  }
}

/** Open an ONNX classifier (a path, or the file's bytes) with its preprocessing. */
export async function openModel(model: string | Uint8Array, opts: OpenModelOptions = {}): Promise<NodeOodModel> {
  // The path itself goes to the loader: external data resolves beside the model file.
  const bytes = typeof model === 'string' ? readRegularFile(model, model, 'a readable ONNX file') : model;
  const classifier = await loadOnnxModel(model, {
    featureLayer: opts.featureLayer, extraOutputs: opts.extraOutputs, inputShape: opts.inputShape, threads: opts.threads,
    batchSize: opts.batchSize ?? 32, // the sources' default: each batch tensor is checked to stay under 2 GiB
  });
  try {
    return new NodeOodModel(classifier, { modelSha256: sha256Bytes(bytes), ...opts });
  } catch (e) {
    await classifier.release();
    throw e;
  }
}
