/**
 * Detectors in Node: load a detector file with its model, check paths (image files, folders,
 * @lists, preprocessed or uint8 .npy tensors, dumps made with the model), save a detector file
 * whole or not at all.
 *
 *   import { loadDetector } from 'napood/node';
 *   const d = await loadDetector('model.detector', { model: 'model.onnx' });
 *   const { rows } = await d.check('photos/');   // rows[i]: name, score, pValue, ood, predicted, confidence
 *   await d.release();
 *
 * The model's SHA-256 is compared with the detector's before the model is loaded into
 * onnxruntime. A detector made from feature dumps checks dumps (made with the same model: the
 * dump's `model_sha256` metadata, when present, must match).
 */
import { basename } from 'node:path';
import { NapoodError, describe } from '../errors.js';
import { Detector, checkModelMatches, type CheckResult, type DetectorOptions } from '../app/detector.js';
import { decodeDetector, type DetectorData } from '../app/detector-file.js';
import type { ImageEntry } from '../app/image-set.js';
import type { ImageSource } from '../images/batches.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { BatchSource } from '../run/pipeline.js';
import type { NapoodEvents } from '../types.js';
import { readRegularFile } from './io/file.js';
import { sha256Bytes } from './io/sha256.js';
import { looksLikeDump } from './io/dump.js';
import { nodeImageDecoder, readImageFile } from './images/loader.js';
import { expandImageInputs } from './images/sources.js';
import { loadOnnxModel } from './onnx.js';
import { writeOutputs } from './outputs.js';
import { RunSets, type RunSource } from './sets.js';
import { isUint8Npy, uint8NpyImages, type DumpSource } from './sources.js';

export interface LoadDetectorOptions {
  /** The ONNX model (path or bytes): needed for images and tensors, not for dumps. */
  readonly model?: string | Uint8Array;
  readonly batchSize?: number;
  readonly threads?: number;
  readonly channelMismatch?: 'convert' | 'skip' | 'error';
  readonly events?: NapoodEvents;
  /** The option that named the model, in messages (default "model"). */
  readonly modelFlag?: string;
}

/** Image files, folders, @lists or one uint8 .npy of pixels as image sources (for corrupting); anything else is refused. */
export async function openImageSources(paths: readonly string[], argument: string): Promise<{ sources: ImageSource[]; close: () => void }> {
  if (paths.length === 1 && paths[0]!.toLowerCase().endsWith('.npy')) {
    if (!isUint8Npy(paths[0]!, argument)) throw new NapoodError(argument, 'ID-val images to corrupt into pseudo-OOD data (image files, folders, @list.txt or a uint8 .npy of pixels): a preprocessed float tensor cannot be corrupted — give the pseudo-OOD set yourself (--pseudo-ood)', describe(paths[0]));
    const images = uint8NpyImages(paths[0]!, argument);
    return { sources: images.sources, close: images.close };
  }
  const dump = paths.find((p) => looksLikeDump(p));
  if (dump !== undefined) throw new NapoodError(argument, 'ID-val images to corrupt into pseudo-OOD data: a feature dump cannot be corrupted — give the pseudo-OOD dump yourself (--pseudo-ood)', describe(dump));
  const list = await expandImageInputs(paths, { argument, labels: 'none' });
  return { sources: list.items.map((it) => ({ name: it.path, label: -1, image: () => readImageFile(it.path) })), close: () => {} };
}

/** The dump must come from the detector's model and have its feature sizes. */
export function checkDumpMatchesDetector(data: DetectorData, dump: DumpSource, events?: NapoodEvents): void {
  const want = data.model.sha256;
  const got = dump.dump.metadata.model_sha256;
  if (want && got && want !== got) throw new NapoodError(dump.label, `a dump made with the detector's model (sha256 ${want.slice(0, 12)}…)`, `a dump of another model (sha256 ${got.slice(0, 12)}…)`);
  const f = data.features;
  const fm = dump.featureMapShape?.slice(1).join(',');
  if ((f.featureMap && fm && f.featureMap.join(',') !== fm) || (f.pooled !== undefined && dump.channels !== undefined && f.pooled !== dump.channels) || (f.classes !== undefined && dump.classes !== undefined && f.classes !== dump.classes)) {
    throw new NapoodError(dump.label, `features of the detector's model (map [${f.featureMap?.join(', ') ?? '?'}], pooled ${f.pooled ?? '?'}, ${f.classes ?? '?'} classes)`, `map [${dump.featureMapShape?.slice(1).join(', ') ?? '?'}], pooled ${dump.channels ?? '?'}, ${dump.classes ?? '?'} classes`);
  }
  if (want && !got && events?.warning) events.warning(`${dump.label}: the dump does not record its model's sha256, so it cannot be checked against the detector's`);
}

export class NodeDetector extends Detector {
  private readonly sets: RunSets;

  constructor(data: DetectorData, private readonly nodeOpts: DetectorOptions & { channelMismatch?: LoadDetectorOptions['channelMismatch']; owned?: OnnxClassifier }) {
    super(data, { decoder: nodeImageDecoder(), ...nodeOpts });
    const model = nodeOpts.classifier;
    this.sets = new RunSets({
      model,
      preprocess: data.preprocess ? () => data.preprocess! : undefined,
      normalisationGiven: true,
      threads: nodeOpts.threads,
      classes: data.classes,
      batchSize: nodeOpts.batchSize,
      channelMismatch: nodeOpts.channelMismatch,
      events: nodeOpts.events,
    });
  }

  /** Open paths as one source (a dump, a tensor, or images); the caller closes it. */
  async open(paths: readonly string[], argument = 'inputs'): Promise<BatchSource> {
    if (paths.length === 0) throw new NapoodError(argument, 'at least one image file, folder, @list.txt, .npy tensor or dump', 'none');
    if (!this.nodeOpts.classifier) {
      if (paths.length !== 1 || !looksLikeDump(paths[0]!)) {
        throw new NapoodError(argument, this.data.source === 'dumps' ? 'a feature dump made with the detector\'s model (this detector was made from dumps)' : 'a feature dump, or a model (--model) to run images and tensors through', describe(paths.join(' ')));
      }
    }
    if (paths.length === 1) {
      const source = await this.sets.open(paths[0]!, argument, 'features');
      if ((source as RunSource).dump) {
        checkDumpMatchesDetector(this.data, source as unknown as DumpSource, this.nodeOpts.events);
        this.sets.check(this.sets.head());
      }
      return source;
    }
    return this.sets.openModelInput(paths, argument, 'features');
  }

  /** Check paths (or what Detector.check takes): one row per input. */
  override async check(set: string | readonly string[] | BatchSource | readonly ImageEntry[] | ImageEntry, opts: { alpha?: number } = {}): Promise<CheckResult> {
    const paths = typeof set === 'string' ? [set] : Array.isArray(set) && set.length > 0 && set.every((s) => typeof s === 'string') ? set as readonly string[] : undefined;
    if (!paths) return super.check(set as Parameters<Detector['check']>[0], opts);
    const source = await this.open(paths);
    try {
      const head = this.nodeOpts.classifier?.head ?? this.sets.head();
      this.checkState(head, this.sets.channels());
      return await super.check(source, { ...opts, head });
    } finally {
      (source as RunSource).close?.();
    }
  }

  /** Write the detector file (whole or not at all). */
  async save(path: string, flag = 'detector'): Promise<void> {
    writeOutputs([{ flag, path, data: await this.bytes() }]);
  }

  override async release(): Promise<void> {
    try {
      await this.sets.close();
      await super.release();
    } finally {
      await this.nodeOpts.owned?.release();
    }
  }
}

/** Load a detector file (path or bytes) with its model; a model whose SHA-256 differs is refused before it is loaded. */
export async function loadDetector(detector: string | Uint8Array, opts: LoadDetectorOptions = {}): Promise<NodeDetector> {
  const what = typeof detector === 'string' ? detector : 'detector';
  const bytes = typeof detector === 'string' ? readRegularFile(detector, what, 'a readable detector file') : detector;
  const data = await decodeDetector(bytes, what);
  const flag = opts.modelFlag ?? 'model';
  if (opts.model === undefined) return new NodeDetector(data, { batchSize: opts.batchSize, threads: opts.threads, events: opts.events, what });
  const modelBytes = typeof opts.model === 'string' ? readRegularFile(opts.model, flag, 'a readable ONNX file') : opts.model;
  const sha = sha256Bytes(modelBytes);
  const file = typeof opts.model === 'string' ? opts.model : 'model';
  try {
    checkModelMatches(data, undefined, sha, what);
  } catch (e) {
    throw e instanceof NapoodError ? new NapoodError(flag, `the model the detector ${what} was made with (sha256 ${data.model.sha256!.slice(0, 12)}…${data.model.file ? `, ${basename(data.model.file)}` : ''})`, `${describe(file)}, a different model (sha256 ${sha.slice(0, 12)}…)`) : e;
  }
  if (data.source === 'dumps' && !data.preprocess) {
    throw new NapoodError(flag, 'no model with a detector made from feature dumps (it has no image preprocessing): check dumps made with that model', describe(file));
  }
  let classifier = await loadOnnxModel(modelBytes, { file, threads: opts.threads });
  const layer = data.model.featureMapTensor;
  if (layer !== undefined && classifier.info.featureMap !== layer) {
    // The detector was made on a feature map chosen by name (--feature-layer).
    await classifier.release();
    classifier = await loadOnnxModel(modelBytes, { file, threads: opts.threads, featureLayer: layer });
  }
  try {
    return new NodeDetector(data, { classifier, owned: classifier, modelSha256: sha, batchSize: opts.batchSize, threads: opts.threads, channelMismatch: opts.channelMismatch, events: opts.events, what });
  } catch (e) {
    await classifier.release();
    throw e;
  }
}
