/**
 * Preprocessing settings from the command line and from settings files (SPEC §4.2): the option
 * specs of the preprocessing flags, their parsing (`--preset`, `--preprocess FILE`, `--size`,
 * ...) on top of a preset, a settings file or the model's input shape, and the reading of a JSON
 * settings file. Node-only because `--preprocess FILE` reads a file; the validation itself is
 * src/images/preprocess.ts.
 */
import { closeSync, constants, openSync, readFileSync, statSync } from 'node:fs';
import { NapoodError, describe } from '../../errors.js';
import { fileKind } from './files.js';
import {
  INTERPOLATIONS, PRESETS, checkAgainstModel, parsePreprocessFields, parsePreprocessText, preprocessForModel,
  type Layout, type Preprocess,
} from '../../images/preprocess.js';

/** Settings files larger than this are refused (a settings file is a few hundred bytes). */
const MAX_SETTINGS_BYTES = 1024 * 1024;

/**
 * Read and parse a JSON settings file (messages name the file and the field). Only a regular
 * file is read (a FIFO or a device would block or never end), of at most 1 MiB; its text is
 * never quoted when it is not JSON.
 */
export function readPreprocessFile(file: string, base?: Preprocess): Preprocess {
  const expected = 'a readable JSON file of preprocessing settings';
  let text: string;
  try {
    const s = statSync(file);
    if (!s.isFile()) throw new NapoodError(file, expected, fileKind(s));
    if (s.size > MAX_SETTINGS_BYTES) throw new NapoodError(file, `${expected} (at most ${MAX_SETTINGS_BYTES} bytes)`, `${s.size} bytes`);
    const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof NapoodError) throw e;
    throw new NapoodError(file, expected, (e as NodeJS.ErrnoException).code ?? String(e));
  }
  return parsePreprocessText(text, file, base);
}

/**
 * Command-line flags as typed (keys = CLI option names), e.g. `--size 224 --resize 256
 * --mean 0.485,0.456,0.406`.
 */
export interface PreprocessFlags {
  readonly preset?: string;
  /** A JSON settings file. */
  readonly preprocess?: string;
  /** "H" or "HxW". */
  readonly size?: string;
  /** A number, or "none" to drop a preset's resize. */
  readonly resize?: string;
  readonly mean?: string;
  readonly std?: string;
  readonly channels?: string;
  readonly layout?: string;
  readonly interpolation?: string;
  readonly resampler?: string;
  readonly 'max-value'?: string;
}

/** Option specs for the CLI (same shape as cli/args.ts `OptionSpec`; keys are the flag names). */
export const PREPROCESS_OPTIONS = {
  preset: { type: 'string', value: 'NAME', help: `preprocessing preset: ${Object.keys(PRESETS).join(', ')}` },
  preprocess: { type: 'string', value: 'FILE', help: 'preprocessing settings as JSON (fields: preset, size, resize, mean, std, channels, channelOrder, layout, interpolation, resampler, maxValue)' },
  size: { type: 'string', value: 'H[xW]', help: 'output size (default: the model input)' },
  resize: { type: 'string', value: 'N', help: 'resize the shorter side to N, then centre-crop to --size (torchvision Resize(N) + CenterCrop)' },
  mean: { type: 'string', value: 'M[,M,M]', help: 'per-channel mean of values in [0, 1] (default 0)' },
  std: { type: 'string', value: 'S[,S,S]', help: 'per-channel std (default 1)' },
  channels: { type: 'string', value: 'gray|rgb|bgr', help: 'colour of the model input (default: the model input)' },
  layout: { type: 'string', value: 'nchw|nhwc', help: 'tensor layout (default: the model input\'s; given, it must agree with it)' },
  interpolation: { type: 'string', value: 'NAME', help: `resize filter: ${INTERPOLATIONS.join(', ')} (default bilinear, as torchvision)` },
  resampler: { type: 'string', value: 'pil|sharp', help: 'pil: the exact pixels of Pillow/torchvision (default); sharp: libvips, faster, approximate' },
  'max-value': { type: 'string', value: '1|255', help: 'scale pixels to [0, 1] (default, torchvision ToTensor) or [0, 255] before mean/std' },
} as const;

const FLAG_OF: Readonly<Record<string, string>> = { maxValue: '--max-value', channelOrder: '--channels' };
const flagName = (f: string): string => FLAG_OF[f] ?? `--${f}`;

function flagNumber(flag: string, v: string, integer: boolean): number {
  const t = v.trim();
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new NapoodError(flag, integer ? 'an integer' : 'a number', describe(v));
  }
  return n;
}

/**
 * Settings from CLI flags. Start from `--preset`, else `--preprocess FILE`, else the model's
 * input shape (`modelInput` = [C, H, W], see `preprocessForModel`); then each flag overrides its
 * field. With a model input ([C, H, W] and the model's layout) the result is checked against it;
 * the layout is the model's (a preset's or a settings file's is replaced), and `--layout`, when
 * given, must agree with it.
 */
export function preprocessFromFlags(flags: PreprocessFlags, modelInput?: readonly number[], modelLayout: Layout = 'nchw'): Preprocess {
  if (flags.preset !== undefined && flags.preprocess !== undefined) {
    throw new NapoodError('--preset', 'either --preset or --preprocess, not both', `--preset ${flags.preset} and --preprocess ${flags.preprocess}`);
  }
  let base: Preprocess | undefined;
  if (flags.preset !== undefined) {
    base = Object.hasOwn(PRESETS, flags.preset) ? PRESETS[flags.preset] : undefined;
    if (!base) throw new NapoodError('--preset', `one of ${Object.keys(PRESETS).join(', ')}`, describe(flags.preset));
  } else if (flags.preprocess !== undefined) {
    // The file's fields over the model's own input (size, channels): a file holding only
    // mean and std is complete for the model it is used with.
    base = readPreprocessFile(flags.preprocess, modelInput ? preprocessForModel(modelInput, 'model input', modelLayout) : undefined);
  } else if (modelInput) {
    base = preprocessForModel(modelInput, 'model input', modelLayout);
  }
  const o: Record<string, unknown> = {};
  if (flags.size !== undefined) o.size = flags.size.split(/[x×,]/).map((p) => flagNumber('--size', p, true));
  if (flags.resize !== undefined) o.resize = flags.resize.trim() === 'none' ? null : flagNumber('--resize', flags.resize, true);
  if (flags.mean !== undefined) o.mean = flags.mean.split(',').map((p) => flagNumber('--mean', p, false));
  if (flags.std !== undefined) o.std = flags.std.split(',').map((p) => flagNumber('--std', p, false));
  if (flags.channels !== undefined) {
    const c = flags.channels.trim().toLowerCase();
    o.channels = c === '1' ? 1 : c === '3' ? 3 : c;
  }
  if (flags.layout !== undefined) o.layout = flags.layout.trim().toLowerCase();
  if (flags.interpolation !== undefined) o.interpolation = flags.interpolation.trim().toLowerCase();
  if (flags.resampler !== undefined) o.resampler = flags.resampler.trim().toLowerCase();
  if (flags['max-value'] !== undefined) o.maxValue = flagNumber('--max-value', flags['max-value'], false);
  let pp = parsePreprocessFields(o, flagName, base);
  if (modelInput) {
    if (flags.layout !== undefined && pp.layout !== modelLayout) {
      throw new NapoodError('--layout', `${modelLayout} (the model's input is ${modelLayout === 'nchw' ? 'channels first, [N, C, H, W]' : 'channels last, [N, H, W, C]'})`, pp.layout);
    }
    if (pp.layout !== modelLayout) pp = { ...pp, layout: modelLayout };
    const [c, h, w] = modelInput;
    checkAgainstModel(pp, pp.layout === 'nchw' ? modelInput : [h!, w!, c!], 'preprocessing (--size, --channels)');
  }
  return pp;
}
