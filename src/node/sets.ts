/**
 * The data sets of a run (ID-train, ID test, OOD sets, sets to score) as pipeline sources, from
 * paths, for Node.
 *
 * Without a model every set is a feature dump. With a model a set is model input: image files,
 * folders (a folder per class gives labels, in sorted folder order as torchvision's ImageFolder),
 * `@list.txt` files, or one preprocessed NCHW float32 `.npy` tensor; each set runs through the
 * model once, and all methods score the same forward pass. A set that is a feature dump (a
 * `.safetensors` file, or a directory holding featureMap.npy / pooled.npy / logits.npy) is still
 * read as a dump, so the features of a large ID-train set made once by `napood dump --model` can
 * be reused; it must match the model's feature map, pooled size and classes, and the model's head
 * is the one used (a dump whose own head differs gets a warning).
 *
 * Class labels: the ID-train set's class folders (or `classes`) define label order, and the ID
 * test set is mapped through them, so a test set holding only some classes keeps the model's
 * indices. OOD sets carry no labels.
 *
 * Options are typed (the CLI parses its flags into them); argument names in messages are the
 * CLI's flags, which `flags` may rename for other front ends.
 */
import { NapoodError, describe } from '../errors.js';
import { checkCompatible, checkDumpMatchesModel } from '../app/checks.js';
import { modelAccess, type ModelAccessHandle } from '../app/model-access.js';
import type { ModelSource } from '../app/model-source.js';
import type { Preprocess } from '../images/preprocess.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import type { BatchSource } from '../run/pipeline.js';
import type { Head, Layout, NapoodEvents } from '../types.js';
import { looksLikeDump, type Dump } from './io/dump.js';
import { imageSetSource, inputArraySource, isUint8Npy, openDumpSource, replayableSource, resolveHead, uint8ImagesSource, type DumpSource } from './sources.js';

export type SetRole = 'id' | 'ood' | 'train' | 'features';

export interface RunSource extends BatchSource {
  close(): void;
  /** What to tell the user after a pass (skipped or converted images). */
  summary?(): string | undefined;
  /** The dump behind the source (feature-dump sets only). */
  readonly dump?: Dump;
}

/** Preprocessing for a model, resolved once the model's input is known. */
export type PreprocessResolver = (inputChw: readonly number[], layout: Layout) => Preprocess;

export interface RunSetsOptions {
  /** An opened ONNX classifier: sets are then model input (or dumps made with it). */
  readonly model?: OnnxClassifier;
  /** How images are preprocessed for the model (required to read images). */
  readonly preprocess?: PreprocessResolver;
  /** True when the user gave the model's input normalisation (a preset, a file or a std). */
  readonly normalisationGiven?: boolean;
  /** onnxruntime intra-op threads for gradient models (ODIN). */
  readonly threads?: number;
  /** Class names in the model's output order (class folders are mapped through them). */
  readonly classes?: readonly string[];
  /** Images per forward pass (default 32). */
  readonly batchSize?: number;
  /** Rows per batch of a dump (default: about 32 MB of features). */
  readonly batchRows?: number;
  /** Head file for dumps without one (not with a model). */
  readonly headPath?: string;
  readonly channelMismatch?: 'convert' | 'skip' | 'error';
  /** A seeded sample of the ID-train images. */
  readonly fitSample?: { readonly n: number; readonly seed: number };
  /** Labels of a preprocessed .npy set, per role (train, id). */
  readonly npyLabels?: Partial<Record<SetRole, string>>;
  readonly events?: NapoodEvents;
  /** Option names for messages (default the CLI's: --fit-sample, --fit-labels, --id-labels, --head, --labels). */
  readonly flags?: Partial<Record<'fitSample' | 'trainLabels' | 'idLabels' | 'head' | 'labels', string>>;
}

const DEFAULT_FLAGS = { fitSample: '--fit-sample', trainLabels: '--fit-labels', idLabels: '--id-labels', head: '--head', labels: '--labels' } as const;

export class RunSets {
  private readonly opened: RunSource[] = [];
  private classes: readonly string[] | undefined;
  private noted = false;
  private readonly pp: Preprocess | undefined;
  private readonly access: ModelAccessHandle | undefined;
  private readonly flags: Required<NonNullable<RunSetsOptions['flags']>>;

  constructor(private readonly opts: RunSetsOptions) {
    this.flags = { ...DEFAULT_FLAGS, ...opts.flags };
    this.classes = opts.classes;
    const model = opts.model;
    if (model) {
      this.pp = opts.preprocess?.(model.info.inputChw, model.info.inputLayout);
      this.access = modelAccess(model, opts.normalisationGiven && this.pp ? this.pp.std : undefined, opts.threads);
    }
  }

  get model(): OnnxClassifier | undefined {
    return this.opts.model;
  }

  /** Class names in label order, once a set with class folders (or `classes`) gave them. */
  get classNames(): readonly string[] | undefined {
    return this.classes;
  }

  /** The preprocessing of images for the model (undefined without a model or settings). */
  get preprocess(): Preprocess | undefined {
    return this.pp;
  }

  /** Open one set. With a model, open the ID-train set before the ID test set (label order). */
  async open(path: string, argument: string, role: SetRole): Promise<RunSource> {
    let source: RunSource;
    const labelsFlag = role === 'train' ? this.flags.trainLabels : role === 'id' ? this.flags.idLabels : undefined;
    const labelsPath = this.opts.npyLabels?.[role];
    if (labelsPath !== undefined && !path.toLowerCase().endsWith('.npy')) {
      throw new NapoodError(labelsFlag ?? this.flags.labels, `a preprocessed .npy tensor as ${argument} (dumps hold their labels; images take them from class folders or lists)`, describe(path));
    }
    const model = this.opts.model;
    if (!model) {
      source = this.openDumpSet(path, argument);
    } else if (looksLikeDump(path)) {
      if (role === 'train') this.refuseSample(`a feature dump (${path})`);
      const ds = this.openDumpSet(path, argument);
      source = ds;
      try {
        checkDumpMatchesModel(ds, model, this.opts.events);
        ds.setClasses(model.info.numClasses);
        if (role !== 'ood') this.adoptDumpClasses(ds.dump, ds.label);
      } catch (e) {
        source.close();
        throw e;
      }
    } else {
      const ms = await this.openModelInput([path], argument, role, labelsPath, labelsFlag);
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

  /** A fit sample draws from images only. */
  private refuseSample(found: string): void {
    if (this.opts.fitSample) throw new NapoodError(this.flags.fitSample, 'images as --fit (files, folders or @list.txt) to draw the sample from', found);
  }

  private openDumpSet(path: string, argument: string): DumpSource {
    return openDumpSource(path, argument, this.opts.batchRows);
  }

  /**
   * Model input: one preprocessed NCHW .npy tensor (optionally with a labels .npy), or images
   * (files, folders, @lists). The caller closes it (or lets close() do so when opened by open()).
   */
  async openModelInput(paths: readonly string[], argument: string, role: SetRole, labelsPath?: string, labelsFlag: string = this.flags.labels): Promise<ModelSource> {
    const model = this.opts.model;
    if (!model) throw new NapoodError('--model', 'an ONNX model to run the images through', 'nothing');
    const batchSize = this.opts.batchSize ?? 32;
    if (paths.some((p) => p.toLowerCase().endsWith('.npy'))) {
      if (paths.length !== 1) throw new NapoodError(argument, 'one preprocessed NCHW .npy tensor, or image files and folders', paths.join(' '));
      if (role === 'train') this.refuseSample(`a preprocessed .npy tensor (${paths[0]})`);
      if (isUint8Npy(paths[0]!, argument)) {
        // uint8 pixels: images, preprocessed here like decoded files.
        if (!this.pp) throw new NapoodError(argument, 'preprocessing settings to read images with (a preset, a settings file or size/mean/std)', 'none');
        return uint8ImagesSource(model, paths[0]!, argument, { pp: this.pp, batchSize, labelsPath, labelsFlag, access: this.access, channelMismatch: this.opts.channelMismatch, events: this.opts.events });
      }
      return inputArraySource(model, paths[0]!, argument, batchSize, labelsPath, this.access, labelsFlag);
    }
    if (labelsPath) throw new NapoodError(labelsFlag, 'labels only with a preprocessed .npy tensor (images take labels from class folders or lists)', labelsPath);
    if (!this.pp) throw new NapoodError(argument, 'preprocessing settings to read images with (a preset, a settings file or size/mean/std)', 'none');
    if (!this.opts.normalisationGiven && !this.noted) {
      this.noted = true;
      const meanGiven = this.pp.mean.some((m) => m !== 0);
      if (!meanGiven) this.opts.events?.note?.('note: no --preset, --preprocess or --mean/--std given: images are scaled to [0, 1] without normalisation (set the normalisation the model was trained with)');
    }
    const fitSample = role === 'train' && this.opts.fitSample
      ? { ...this.opts.fitSample, flag: `${this.flags.fitSample} ${this.opts.fitSample.n}, --sample-seed ${this.opts.fitSample.seed}` }
      : undefined;
    const ms = await imageSetSource(model, paths, argument, {
      pp: this.pp,
      batchSize,
      labels: role === 'ood' ? 'none' : 'auto',
      classes: role === 'ood' ? undefined : this.classes,
      channelMismatch: this.opts.channelMismatch,
      access: this.access,
      sample: fitSample,
      events: this.opts.events,
    });
    if (role !== 'ood' && !this.classes && ms.classes && ms.classes.length > 0) this.classes = ms.classes;
    return ms;
  }

  /** The head of the run: the model's, or the head file / the one the dumps carry. */
  head(): Head | undefined {
    if (this.opts.model) return this.opts.model.head;
    return resolveHead(this.opts.headPath, this.opened.map((s) => s as DumpSource), this.opts.events, this.flags.head);
  }

  /**
   * Dumps must agree on channels and classes with the head and each other (a model agrees with
   * itself); a head from a head file is named by its flag and path when it is the odd one out.
   * Labels of dumps are then checked against the head's classes as they are read.
   */
  check(head: Head | undefined): void {
    if (this.opts.model) return;
    const dumps = this.opened.map((s) => s as DumpSource);
    checkCompatible(head, dumps, this.opts.headPath ? `${this.flags.head} ${this.opts.headPath}` : undefined);
    if (head) for (const d of dumps) d.setClasses?.(head.k);
  }

  /**
   * The pooled feature channels C of the run, when known: the model's pooled size, else the
   * first dump that has pooled features (check() makes the others agree). For fitOrLoad's
   * `channels`: loaded states are checked against it.
   */
  channels(): number | undefined {
    const model = this.opts.model;
    if (model) return model.info.pooledDim ?? model.info.featureShape[0];
    for (const s of this.opened) {
      const c = (s as DumpSource).channels;
      if (c !== undefined) return c;
    }
    return undefined;
  }

  /** Skipped / converted image counts, once a source has been read (through events.note). */
  reportSummaries(): void {
    for (const s of this.opened) {
      const line = s.summary?.();
      if (line) this.opts.events?.note?.(line);
    }
  }

  /** Close every set opened and release the gradient models (not the model: its opener owns it). */
  async close(): Promise<void> {
    for (const s of this.opened) {
      try { s.close(); } catch { /* keep closing the others */ }
    }
    await this.access?.release();
  }
}
