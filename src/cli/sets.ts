/**
 * The data sets of a command (`--features`, `--id`, `--ood`, `--fit`) as pipeline sources.
 *
 * Without `--model` every set is a feature dump. With `--model MODEL.onnx` a set is model input:
 * image files, folders (a folder per class gives labels, in sorted folder order as torchvision's
 * ImageFolder), `@list.txt` files, or one preprocessed NCHW float32 `.npy` tensor; each set runs
 * through the model once, and all methods score the same forward pass. A set that is a feature
 * dump (a `.safetensors` file, or a directory holding featureMap.npy / pooled.npy / logits.npy) is
 * still read as a dump, so the features of a large ID-train set made once by `napood dump --model`
 * can be reused; it must match the model's feature map, pooled size and classes, and the model's
 * head is the one used (a dump whose own head differs gets a warning).
 *
 * Class labels: the ID-train set's class folders (or `--classes FILE`) define label order, and the
 * ID test set is mapped through them, so a test set holding only some classes keeps the model's
 * indices. OOD sets carry no labels.
 */
import { readFileSync } from 'node:fs';
import { NapoodError, describe, shapeString } from '../errors.js';
import type { BatchSource } from '../run/pipeline.js';
import { looksLikeDump, type Dump } from '../node/io/dump.js';
import { PREPROCESS_OPTIONS, preprocessFromFlags, type Preprocess, type PreprocessFlags } from '../node/images/index.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { Head } from '../types.js';
import { intOption, listOption, stringOption, type Values } from './args.js';
import { imageSetSource, inputArraySource, openModel, parseInputShape, replayableSource, type ModelSource } from './model.js';
import { modelAccess, type ModelAccessHandle } from '../app/model-access.js';
import { checkCompatible, openDumpSource, resolveHead, type OpenedSource } from './sources.js';

export type SetRole = 'id' | 'ood' | 'train' | 'features';

export interface CliSource extends BatchSource {
  close(): void;
  /** A line for stderr after a pass (skipped or converted images). */
  summary?(): string | undefined;
  /** The dump behind the source (feature-dump sets only). */
  readonly dump?: Dump;
}

export const modelOptions = {
  model: { type: 'string', value: 'MODEL', help: 'an ONNX image classifier; sets are then images (files, folders, @list.txt), preprocessed NCHW .npy tensors, or dumps made with this model' },
  'feature-layer': { type: 'string', value: 'NAME', help: 'use this tensor as the feature map instead of the one found before global pooling' },
  'batch-size': { type: 'string', value: 'N', help: 'images per forward pass (default 32)' },
  threads: { type: 'string', value: 'N', help: 'onnxruntime intra-op threads (default: onnxruntime\'s choice)' },
  'input-shape': { type: 'string', value: 'C,H,W', help: 'image size for a model whose input dims are symbolic (default: the size of --size / --preset / --preprocess)' },
} as const;

export async function openModelFrom(values: Values): Promise<OnnxClassifier> {
  const threads = intOption(values, 'threads', 0, 0);
  const layers = listOption(values, 'layers').flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean);
  return openModel(stringOption(values, 'model', true), {
    featureLayer: stringOption(values, 'feature-layer'),
    layers,
    threads: threads > 0 ? threads : undefined,
    inputShape: parseInputShape(stringOption(values, 'input-shape')),
    defaultInputShape: shapeFromPreprocessing(values),
  });
}

/** The preprocessing flags the user gave, keyed by option name. */
function preprocessFlags(values: Values): PreprocessFlags {
  const flags: Record<string, string> = {};
  for (const f of PREPROCESS_FLAGS) {
    const v = stringOption(values, f);
    if (v !== undefined) flags[f] = v;
  }
  return flags as PreprocessFlags;
}

/** [C, H, W] of the images the preprocessing flags make, when they give a size (else undefined). */
function shapeFromPreprocessing(values: Values): number[] | undefined {
  const flags = preprocessFlags(values);
  if (Object.keys(flags).length === 0) return undefined;
  try {
    const pp = preprocessFromFlags(flags);
    return [pp.channels, pp.size[0], pp.size[1]];
  } catch {
    return undefined; // no size among them: the model's own error says what is missing
  }
}

/** Options that turn sets into model input (score / eval / fit share them). */
export const modelSetOptions = {
  model: modelOptions.model,
  'feature-layer': modelOptions['feature-layer'],
  'batch-size': modelOptions['batch-size'],
  threads: modelOptions.threads,
  'input-shape': modelOptions['input-shape'],
  classes: { type: 'string', value: 'FILE', help: 'with --model: class names in the model\'s output order, one per line (class folders are mapped through it)' },
  'channel-mismatch': { type: 'string', value: 'convert|skip|error', help: 'with --model: images whose channel count differs from the model input (default convert, as PIL convert; counted on stderr)' },
  ...PREPROCESS_OPTIONS,
} as const;

/** Options of the commands that fit ID statistics on images (score, eval, fit). */
export const fitSampleOptions = {
  'fit-sample': { type: 'string', value: 'N', help: 'with --model: fit on a seeded random sample of N of the --fit images (e.g. 10000 of a large training set)' },
  'sample-seed': { type: 'string', value: 'S', help: 'seed of --fit-sample (default 0)' },
  'fit-labels': { type: 'string', value: 'Y.npy', help: 'with --model and a preprocessed .npy --fit: its labels (1-D, N; for mahalanobis)' },
} as const;

/** eval only: labels of a preprocessed .npy --id set (for the ID accuracy). */
export const idLabelsOption = {
  'id-labels': { type: 'string', value: 'Y.npy', help: 'with --model and a preprocessed .npy --id: its labels (1-D, N; for the ID accuracy)' },
} as const;

/** The labels option of each role whose .npy input may carry labels. */
const LABELS_FLAG: Partial<Record<SetRole, string>> = { train: 'fit-labels', id: 'id-labels' };

const PREPROCESS_FLAGS = Object.keys(PREPROCESS_OPTIONS) as (keyof typeof PREPROCESS_OPTIONS)[];
const MODEL_ONLY = ['feature-layer', 'batch-size', 'threads', 'input-shape', 'classes', 'channel-mismatch', 'fit-sample', 'sample-seed', 'fit-labels', 'id-labels', ...PREPROCESS_FLAGS];

function readClasses(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new NapoodError('--classes', 'a readable text file with one class name per line', `${path}: ${(e as Error).message}`);
  }
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (names.length === 0) throw new NapoodError('--classes', 'one class name per line', `no names in ${path}`);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new NapoodError('--classes', 'distinct class names', `${JSON.stringify(name)} twice in ${path}`);
    seen.add(name);
  }
  return names;
}

/**
 * A dump read next to a model must hold that model's features: the feature map [C, H, W], the
 * pooled size and the number of classes as the model gives them. The model's head is used; a
 * dump carrying a different head.weight / head.bias is reported on stderr (it was probably made
 * with another model or another checkpoint).
 */
export function checkDumpMatchesModel(dump: Dump, label: string, model: OnnxClassifier): void {
  const info = model.info;
  const made = `as ${info.file} gives (a dump made with this model, e.g. by napood dump --model)`;
  const fm = dump.featureMapShape;
  const [c, h, w] = info.featureShape;
  if (fm && (fm[1] !== c || fm[2] !== h || fm[3] !== w)) {
    throw new NapoodError(label, `a feature map [N, ${c}, ${h}, ${w}] ${made}`, `featureMap ${shapeString(fm)}`);
  }
  const pooled = info.pooledDim ?? c;
  if (dump.channels !== undefined && dump.channels !== pooled) {
    throw new NapoodError(label, `${pooled} feature channels ${made}`, `${dump.channels}`);
  }
  if (dump.classes !== undefined && dump.classes !== info.numClasses) {
    throw new NapoodError(label, `logits of ${info.numClasses} classes ${made}`, `${dump.classes}`);
  }
  const own = dump.linearHead();
  const modelHead = model.head?.linear;
  if (own && modelHead) {
    let worst = own.k === modelHead.k && own.c === modelHead.c ? 0 : Infinity;
    if (worst === 0) {
      for (let i = 0; i < own.weight.length; i++) worst = Math.max(worst, Math.abs(own.weight[i]! - modelHead.weight[i]!) / Math.max(1, Math.abs(modelHead.weight[i]!)));
      for (let i = 0; i < own.bias.length; i++) worst = Math.max(worst, Math.abs(own.bias[i]! - modelHead.bias[i]!) / Math.max(1, Math.abs(modelHead.bias[i]!)));
    }
    if (worst > 1e-6) {
      process.stderr.write(`napood: warning: ${label}: its head weights differ from ${info.file}'s head (${worst === Infinity ? `[${own.k}, ${own.c}] vs [${modelHead.k}, ${modelHead.c}]` : `max relative difference ${worst.toExponential(2)}`}); the model's head is used; was the dump made with another model?\n`);
    }
  }
}

export class SetContext {
  private readonly opened: CliSource[] = [];
  private classes: readonly string[] | undefined;
  private noted = false;

  private constructor(
    private readonly values: Values,
    readonly model: OnnxClassifier | undefined,
    private readonly access: ModelAccessHandle | undefined,
    private readonly pp: Preprocess | undefined,
    /** True when the user gave the input normalisation (preset, file or --std). */
    private readonly explicitNormalisation: boolean,
  ) {
    const classesPath = stringOption(values, 'classes');
    this.classes = classesPath ? readClasses(classesPath) : undefined;
  }

  static async create(values: Values): Promise<SetContext> {
    const modelPath = stringOption(values, 'model');
    if (!modelPath) {
      const stray = MODEL_ONLY.find((o) => values[o] !== undefined);
      if (stray) throw new NapoodError(`--${stray}`, '--model MODEL.onnx (it applies to model input only)', 'feature dumps');
      return new SetContext(values, undefined, undefined, undefined, false);
    }
    if (values.head !== undefined) throw new NapoodError('--head', 'no --head with --model (the head is read from the model)', `--head ${String(values.head)}`);
    if (values['sample-seed'] !== undefined && values['fit-sample'] === undefined) {
      throw new NapoodError('--sample-seed', '--fit-sample N with it (the seed is that of the sample)', `--sample-seed ${String(values['sample-seed'])} alone`);
    }
    if (values['batch-rows'] !== undefined) throw new NapoodError('--batch-rows', '--batch-size N with --model (images per forward pass)', `--batch-rows ${String(values['batch-rows'])}`);
    const mismatch = stringOption(values, 'channel-mismatch');
    if (mismatch !== undefined && !['convert', 'skip', 'error'].includes(mismatch)) throw new NapoodError('--channel-mismatch', 'convert, skip or error', JSON.stringify(mismatch));
    const flags = preprocessFlags(values);
    const model = await openModelFrom(values);
    try {
      const pp = preprocessFromFlags(flags, model.info.inputChw, model.info.inputLayout);
      const explicit = flags.preset !== undefined || flags.preprocess !== undefined || flags.std !== undefined;
      const threads = intOption(values, 'threads', 0, 0);
      const access = modelAccess(model, explicit ? pp.std : undefined, threads > 0 ? threads : undefined);
      return new SetContext(values, model, access, pp, explicit);
    } catch (e) {
      await model.release();
      throw e;
    }
  }

  /** Open one set. With a model, open the ID-train set before the ID test set (label order). */
  async open(path: string, argument: string, role: SetRole): Promise<CliSource> {
    let source: CliSource;
    const labelsFlag = LABELS_FLAG[role];
    const labelsPath = labelsFlag ? stringOption(this.values, labelsFlag) : undefined;
    if (labelsPath !== undefined && !path.toLowerCase().endsWith('.npy')) {
      throw new NapoodError(`--${labelsFlag}`, `a preprocessed .npy tensor as ${argument} (dumps hold their labels; images take them from class folders or lists)`, describe(path));
    }
    if (!this.model) {
      source = this.openDumpSet(path, argument);
    } else if (looksLikeDump(path)) {
      if (role === 'train') this.refuseSample(`a feature dump (${path})`);
      source = this.openDumpSet(path, argument);
      try {
        checkDumpMatchesModel(source.dump!, source.label, this.model);
        if (role !== 'ood') this.adoptDumpClasses(source.dump!, source.label);
      } catch (e) {
        source.close();
        throw e;
      }
    } else {
      const ms = await this.openModelInput([path], argument, role, labelsPath, labelsFlag && `--${labelsFlag}`);
      source = role === 'train' ? replayableSource(ms) : ms;
    }
    this.opened.push(source);
    return source;
  }

  /**
   * Labels of a dump made by `napood dump --images` are indices in its class order (metadata
   * "classes"): it must be the order the other sets of the run use.
   */
  private adoptDumpClasses(dump: Dump, label: string): void {
    const text = dump.metadata.classes;
    if (text === undefined || !dump.has('labels')) return;
    let names: unknown;
    try { names = JSON.parse(text); } catch { return; }
    if (!Array.isArray(names) || !names.every((x) => typeof x === 'string')) return;
    if (!this.classes) {
      this.classes = names as string[];
      return;
    }
    const same = names.length <= this.classes.length && names.every((x, i) => x === this.classes![i]);
    if (!same) {
      throw new NapoodError(label, `labels in the class order of the other sets (${this.classes.slice(0, 4).join(', ')}${this.classes.length > 4 ? ', …' : ''})`, `a dump labelled in the order ${(names as string[]).slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''}`);
    }
  }

  /** --fit-sample draws from images only. */
  private refuseSample(found: string): void {
    if (this.values['fit-sample'] !== undefined) {
      throw new NapoodError('--fit-sample', 'images as --fit (files, folders or @list.txt) to draw the sample from', found);
    }
  }

  private openDumpSet(path: string, argument: string): CliSource {
    const rows = intOption(this.values, 'batch-rows', 0, 1);
    const dumpSource: OpenedSource = openDumpSource(path, argument, rows === 0 ? undefined : rows);
    return { ...dumpSource, close: () => dumpSource.dump.close() };
  }

  /**
   * Model input: one preprocessed NCHW .npy tensor (optionally with a labels .npy), or images
   * (files, folders, @lists). The caller closes it (or lets close() do so when opened by open()).
   */
  async openModelInput(paths: readonly string[], argument: string, role: SetRole, labelsPath?: string, labelsFlag = '--labels'): Promise<ModelSource> {
    const model = this.model;
    if (!model) throw new NapoodError('--model', 'an ONNX model to run the images through', 'nothing');
    const batchSize = intOption(this.values, 'batch-size', 32, 1);
    let ms: ModelSource;
    if (paths.some((p) => p.toLowerCase().endsWith('.npy'))) {
      if (paths.length !== 1) throw new NapoodError(argument, 'one preprocessed NCHW .npy tensor, or image files and folders', paths.join(' '));
      if (role === 'train') this.refuseSample(`a preprocessed .npy tensor (${paths[0]})`);
      ms = inputArraySource(model, paths[0]!, argument, batchSize, labelsPath, this.access, labelsFlag);
    } else {
      if (labelsPath) throw new NapoodError(labelsFlag, 'labels only with a preprocessed .npy tensor (images take labels from class folders or lists)', labelsPath);
      if (!this.explicitNormalisation && !this.noted) {
        this.noted = true;
        if (stringOption(this.values, 'mean') === undefined) {
          process.stderr.write('napood: note: no --preset, --preprocess or --mean/--std given: images are scaled to [0, 1] without normalisation (set the normalisation the model was trained with)\n');
        }
      }
      ms = await imageSetSource(model, paths, argument, {
        pp: this.pp!,
        batchSize,
        labels: role === 'ood' ? 'none' : 'auto',
        classes: role === 'ood' ? undefined : this.classes,
        channelMismatch: stringOption(this.values, 'channel-mismatch') as 'convert' | 'skip' | 'error' | undefined,
        access: this.access,
        sample: role === 'train' ? this.fitSample() : undefined,
      });
      if (role !== 'ood' && !this.classes && ms.classes && ms.classes.length > 0) this.classes = ms.classes;
    }
    return ms;
  }

  private fitSample(): { n: number; seed: number; flag: string } | undefined {
    const n = intOption(this.values, 'fit-sample', 0, 1);
    if (n === 0) return undefined;
    const seed = intOption(this.values, 'sample-seed', 0, 0);
    if (seed > 0xffffffff) throw new NapoodError('--sample-seed', 'an integer in [0, 4294967295]', String(seed));
    return { n, seed, flag: `--fit-sample ${n}, --sample-seed ${seed}` };
  }

  /** The head of the run: the model's, or --head FILE / the first dump holding one. */
  head(): Head | undefined {
    if (this.model) return this.model.head;
    return resolveHead(stringOption(this.values, 'head'), this.opened.map((s) => s as OpenedSource));
  }

  /** Dumps must agree on channels and classes with the head and each other (a model agrees with itself). */
  check(head: Head | undefined): void {
    if (!this.model) checkCompatible(head, this.opened.map((s) => s as OpenedSource));
  }

  /** Skipped / converted image counts, once a source has been read. */
  reportSummaries(): void {
    for (const s of this.opened) {
      const line = s.summary?.();
      if (line) process.stderr.write(line + '\n');
    }
  }

  async close(): Promise<void> {
    for (const s of this.opened) {
      try { s.close(); } catch { /* keep closing the others */ }
    }
    await this.access?.release();
    await this.model?.release();
  }
}
