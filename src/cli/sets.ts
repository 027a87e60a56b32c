/**
 * The CLI's side of a run's sets: flags → the typed options of `RunSets` (src/node/sets.ts),
 * the model opened from `--model` with the user's layer choices, and the events printer.
 */
import { readRegularFile } from '../node/io/file.js';
import { NapoodError } from '../errors.js';
import { PREPROCESS_OPTIONS, preprocessFromFlags, type PreprocessFlags } from '../node/images/preprocess-flags.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import { RunSets } from '../node/sets.js';
import type { NapoodEvents } from '../types.js';
import { intOption, listOption, stringOption, type Values } from './args.js';
import { openModel, parseInputShape } from './model.js';
import type { ProgressLine } from './progress.js';


const PREPROCESS_FLAGS = Object.keys(PREPROCESS_OPTIONS) as (keyof typeof PREPROCESS_OPTIONS)[];
const MODEL_ONLY = ['feature-layer', 'batch-size', 'threads', 'input-shape', 'classes', 'channel-mismatch', 'fit-sample', 'sample-seed', 'fit-labels', 'id-labels', ...PREPROCESS_FLAGS];

/** Events printed on stderr: warnings as `napood: warning: …`, notes as `napood: …`, progress on the TTY line. */
export function stderrEvents(progress?: ProgressLine, label = ''): NapoodEvents {
  const update = progress?.update(label);
  return {
    warning: (m) => { progress?.done(); process.stderr.write(`napood: warning: ${m}\n`); },
    note: (m) => { progress?.done(); process.stderr.write(`napood: ${m}\n`); },
    progress: update ? (done, total, what) => update(done, total, what) : undefined,
  };
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
  } catch (e) {
    // a size that was given but is refused (--size 40000) is the user's error, not the model's
    if (flags.size !== undefined || flags.preset !== undefined) throw e;
    // a settings file without a size takes it from the model; any other refusal stands
    if (flags.preprocess !== undefined && !(e instanceof NapoodError && /expected an output size/.test(e.message))) throw e;
    return undefined; // no size among them: the model's own error says what is missing
  }
}

export async function openModelFrom(values: Values, specLayers: readonly string[] = []): Promise<OnnxClassifier> {
  const threads = intOption(values, 'threads', 0, 0, 1024);
  const layers = [...new Set([...listOption(values, 'layers').flatMap((l) => l.split(',')).map((l) => l.trim()).filter(Boolean), ...specLayers])];
  return openModel(stringOption(values, 'model', true), {
    featureLayer: stringOption(values, 'feature-layer'),
    layers,
    threads: threads > 0 ? threads : undefined,
    inputShape: parseInputShape(stringOption(values, 'input-shape')),
    defaultInputShape: shapeFromPreprocessing(values),
    batchSize: intOption(values, 'batch-size', 32, 1, 65536),
  });
}

function readClasses(path: string): string[] {
  const text = new TextDecoder().decode(readRegularFile(path, '--classes', 'a readable text file with one class name per line'));
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (names.length === 0) throw new NapoodError('--classes', 'one class name per line', `no names in ${path}`);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new NapoodError('--classes', 'distinct class names', `${JSON.stringify(name)} twice in ${path}`);
    seen.add(name);
  }
  return names;
}

/** The sets of a command with their model (when --model): close() closes both. */
export class SetContext extends RunSets {
  private constructor(opts: ConstructorParameters<typeof RunSets>[0], private readonly owned: OnnxClassifier | undefined) {
    super(opts);
  }

  /** `specLayers`: named layers the methods read (nap[L1+L2]), added as model outputs. */
  static async create(values: Values, events: NapoodEvents, specLayers: readonly string[] = []): Promise<SetContext> {
    const modelPath = stringOption(values, 'model');
    const batchRows = intOption(values, 'batch-rows', 0, 1, 1 << 24);
    if (!modelPath) {
      const stray = MODEL_ONLY.find((o) => values[o] !== undefined);
      if (stray) throw new NapoodError(`--${stray}`, '--model MODEL.onnx (it applies to model input only)', 'feature dumps');
      return new SetContext({ headPath: stringOption(values, 'head'), batchRows: batchRows || undefined, events }, undefined);
    }
    if (values.head !== undefined) throw new NapoodError('--head', 'no --head with --model (the head is read from the model)', `--head ${String(values.head)}`);
    if (values['sample-seed'] !== undefined && values['fit-sample'] === undefined) {
      throw new NapoodError('--sample-seed', '--fit-sample N with it (the seed is that of the sample)', `--sample-seed ${String(values['sample-seed'])} alone`);
    }
    if (values['batch-rows'] !== undefined) throw new NapoodError('--batch-rows', '--batch-size N with --model (images per forward pass)', `--batch-rows ${String(values['batch-rows'])}`);
    const mismatch = stringOption(values, 'channel-mismatch');
    if (mismatch !== undefined && !['convert', 'skip', 'error'].includes(mismatch)) throw new NapoodError('--channel-mismatch', 'convert, skip or error', JSON.stringify(mismatch));
    const flags = preprocessFlags(values);
    const batchSize = intOption(values, 'batch-size', 32, 1, 65536);
    const fitSampleN = intOption(values, 'fit-sample', 0, 1);
    const seed = intOption(values, 'sample-seed', 0, 0, 0xffffffff);
    const classesPath = stringOption(values, 'classes');
    const classes = classesPath ? readClasses(classesPath) : undefined;
    const model = await openModelFrom(values, specLayers);
    try {
      const threads = intOption(values, 'threads', 0, 0, 1024);
      return new SetContext({
        model,
        preprocess: (chw, layout) => preprocessFromFlags(flags, chw, layout),
        normalisationGiven: flags.preset !== undefined || flags.preprocess !== undefined || flags.std !== undefined || flags.mean !== undefined,
        threads: threads > 0 ? threads : undefined,
        classes,
        batchSize,
        channelMismatch: mismatch as 'convert' | 'skip' | 'error' | undefined,
        fitSample: fitSampleN > 0 ? { n: fitSampleN, seed } : undefined,
        npyLabels: { train: stringOption(values, 'fit-labels'), id: stringOption(values, 'id-labels') },
        events,
      }, model);
    } catch (e) {
      await model.release();
      throw e;
    }
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.owned?.release();
    }
  }
}
