/**
 * The configuration of `napood report CONFIG --out DIR` (JSON), validated into typed settings
 * with a NapoodError naming the field (`models[1].sets.ood[0].group: expected …, found …`).
 * Runtime-neutral: paths are kept as written (src/node/report resolves them against the config
 * file's folder and opens them).
 *
 *   {
 *     "title": "ResNet-18 on CIFAR-10",                       optional
 *     "models": [ { "name": "resnet18", "path": "resnet18.onnx", "preprocess": "cifar",
 *                   "classes": ["airplane", …] | "classes.txt",  optional
 *                   "sets": { … },                              optional, overrides the shared sets key by key
 *                   "layers": "auto" | ["name", …],             optional, overrides the shared layers
 *                   "tune": { … } } ],                           optional, overrides the shared tune
 *     "sets": { "train": "train/" | { "path": "x.npy", "labels": "y.npy" },
 *               "id": { "path": "test/", "labels": … },
 *               "ood": [ { "name": "svhn", "path": "svhn/", "group": "near" | "far" }, … ] },
 *     "methods": ["msp", "energy", "nap", "react", "nap-r", …],   default DEFAULT_METHODS
 *     "paperW": "imagenet" | "cifar10" | "cifar100",           default w of NAP-X given without w
 *     "sweeps": { "w": [0, 0.1, …, 1], "nap": { "p": [..], "eps": [..] }, "percentile": [..] },
 *     "layers": "auto" | ["name", …],  "layerCombos": [["a", "b"], …],
 *     "tune": { "val": "val.npy" | { "path": … },              optional: w of each NAP-X tuned on ID-val
 *               "corruptions": [..], "severities": [3, 4, 5],  vs pseudo-OOD (corrupted ID-val; app/pseudo-ood.ts)
 *               "assignment": "random" | "all", "seed": 0, "criterion": "auroc" | "fpr95" },
 *     "bootstrap": 1000, "seed": 0, "figureSample": 500, "batchSize": 32
 *   }
 */
import { NapoodError, describe } from '../../errors.js';
import { getCorruption } from '../../images/corrupt/index.js';
import { NAPX_INNER } from '../../methods/napx.js';
import { parseMethodSpec, type MethodSpec } from '../../run/spec.js';

export interface SetConfig {
  readonly path: string;
  /** Labels of a .npy set (int .npy, one per row). */
  readonly labels?: string;
}

export interface OodSetConfig extends SetConfig {
  readonly name: string;
  readonly group: 'near' | 'far';
}

export interface SetsConfig {
  readonly train?: SetConfig;
  readonly id: SetConfig;
  readonly ood: readonly OodSetConfig[];
}

export interface ModelConfig {
  readonly name: string;
  readonly path: string;
  /** A preset name, a settings object (fields of a --preprocess file) or a path to such a .json file. */
  readonly preprocess?: string | Readonly<Record<string, unknown>>;
  /** Class names in the model's output order, or a file of them (one per line). */
  readonly classes?: readonly string[] | string;
  readonly sets: SetsConfig;
  readonly layers: 'auto' | readonly string[];
  readonly layerCombos?: readonly (readonly string[])[];
  /** w of each NAP-X tuned on ID-val vs pseudo-OOD (corrupted ID-val), never on the OOD test sets. */
  readonly tune?: TuneConfig;
}

export interface TuneConfig {
  /** ID-val images (a uint8 .npy of pixels, image files or a folder), held out from train and test. */
  readonly val: SetConfig;
  readonly corruptions?: readonly string[];
  readonly severities?: readonly number[];
  readonly assignment?: 'random' | 'all';
  /** Seed of the corruptions (default 0). */
  readonly seed?: number;
  readonly criterion?: 'auroc' | 'fpr95';
}

export interface SweepsConfig {
  /** w grid of every NAP-X. */
  readonly w: readonly number[];
  readonly nap: { readonly p: readonly number[]; readonly eps: readonly number[] };
  /** Percentile grid of ReAct, ASH-S and DICE (those among the methods or inside a NAP-X). */
  readonly percentile: readonly number[];
}

export interface ReportConfig {
  readonly title: string;
  readonly models: readonly ModelConfig[];
  readonly methods: readonly MethodSpec[];
  readonly paperW: 'imagenet' | 'cifar10' | 'cifar100';
  readonly sweeps: SweepsConfig;
  readonly bootstrap: number;
  readonly seed: number;
  readonly figureSample: number;
  readonly batchSize: number;
  /** True when `methods` was not given: methods a model cannot run are left out (with a note) instead of refused. */
  readonly defaultMethods: boolean;
}

/** The paper's comparison (Tables 1 / 2 without the methods that need gradients or training). */
export const DEFAULT_METHODS = ['msp', 'maxlogit', 'energy', 'react', 'dice', 'ash-s', 'nap', 'nap-e', 'nap-r', 'nap-a', 'nap-d', 'nap-m'] as const;

/** The paper's w per NAP-X and benchmark (README, SPEC §3); 'imagenet' is every method's default. */
export const PAPER_W: Readonly<Record<ReportConfig['paperW'], Readonly<Record<string, number>>>> = Object.freeze({
  cifar10: { 'nap-e': 0.4, 'nap-a': 0.5, 'nap-r': 0.4, 'nap-d': 0.5, 'nap-m': 0.5 },
  cifar100: { 'nap-e': 0.4, 'nap-a': 0.6, 'nap-r': 0.5, 'nap-d': 0.6, 'nap-m': 0.3 },
  imagenet: { 'nap-e': 0.6, 'nap-a': 0.8, 'nap-r': 0.8, 'nap-d': 0.6, 'nap-m': 0.3 },
});

const W_GRID = Array.from({ length: 11 }, (_, i) => i / 10);
const TOP_KEYS = ['title', 'models', 'sets', 'methods', 'paperW', 'sweeps', 'layers', 'layerCombos', 'bootstrap', 'seed', 'figureSample', 'batchSize', 'tune', '$comment'];
const MODEL_KEYS = ['name', 'path', 'preprocess', 'classes', 'sets', 'layers', 'layerCombos', 'tune', '$comment'];

type Obj = Readonly<Record<string, unknown>>;

/** `found` as a value (described), or as words when it starts with NUL ('\u0000none'). */
function fail(field: string, expected: string, found: unknown): never {
  throw new NapoodError(field, expected, typeof found === 'string' && found.startsWith('\u0000') ? found.slice(1) : describe(found));
}

function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'a JSON object', v);
  return v as Obj;
}

function known(o: Obj, keys: readonly string[], field: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${field}.${k}`, `one of the fields ${keys.filter((x) => x !== '$comment').join(', ')}`, '\u0000an unknown field');
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') fail(field, 'a non-empty string', v);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) fail(field, 'a string without control characters', v);
  return v;
}

function numbers(v: unknown, field: string, min: number, max: number, integer = false): number[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, 'a non-empty array of numbers', v);
  const seen = new Set<number>();
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) fail(`${field}[${i}]`, `${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`, x);
    if (seen.has(x)) fail(`${field}[${i}]`, 'each value once', x);
    seen.add(x);
    return x;
  }).sort((a, b) => a - b);
}

function int(v: unknown, field: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(field, `an integer in [${min}, ${max}]`, v);
  return v;
}

function set(v: unknown, field: string): SetConfig {
  if (typeof v === 'string') return { path: text(v, field) };
  const o = object(v, field);
  known(o, ['path', 'labels', '$comment'], field);
  return { path: text(o.path, `${field}.path`), ...(o.labels !== undefined ? { labels: text(o.labels, `${field}.labels`) } : {}) };
}

function oodSets(v: unknown, field: string): OodSetConfig[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, 'a non-empty array of OOD sets { name, path, group }', v);
  const names = new Set<string>();
  return v.map((item, i) => {
    const f = `${field}[${i}]`;
    const o = object(item, f);
    known(o, ['name', 'path', 'labels', 'group', '$comment'], f);
    const name = text(o.name, `${f}.name`);
    if (name === 'id' || name === 'Average' || names.has(name)) fail(`${f}.name`, 'distinct set names (not "id" or "Average")', name);
    names.add(name);
    if (o.group !== 'near' && o.group !== 'far') fail(`${f}.group`, '"near" or "far"', o.group);
    return { ...set({ path: o.path, ...(o.labels !== undefined ? { labels: o.labels } : {}) }, f), name, group: o.group };
  });
}

/** The shared or per-model sets; `partial` allows missing keys (filled from the shared ones). */
function sets(v: unknown, field: string): Partial<SetsConfig> {
  const o = object(v, field);
  known(o, ['train', 'id', 'ood', '$comment'], field);
  return {
    ...(o.train !== undefined ? { train: set(o.train, `${field}.train`) } : {}),
    ...(o.id !== undefined ? { id: set(o.id, `${field}.id`) } : {}),
    ...(o.ood !== undefined ? { ood: oodSets(o.ood, `${field}.ood`) } : {}),
  };
}

function tune(v: unknown, field: string): TuneConfig | undefined {
  if (v === undefined) return undefined;
  const o = object(v, field);
  known(o, ['val', 'corruptions', 'severities', 'assignment', 'seed', 'criterion', '$comment'], field);
  const val = set(o.val, `${field}.val`);
  let corruptions: string[] | undefined;
  if (o.corruptions !== undefined) {
    if (!Array.isArray(o.corruptions) || o.corruptions.length === 0) fail(`${field}.corruptions`, 'a non-empty array of corruption names', o.corruptions);
    corruptions = o.corruptions.map((c, i) => { const t = text(c, `${field}.corruptions[${i}]`); getCorruption(t, `${field}.corruptions[${i}]`); return t; });
  }
  const severities = o.severities === undefined ? undefined : numbers(o.severities, `${field}.severities`, 1, 5, true);
  if (o.assignment !== undefined && o.assignment !== 'random' && o.assignment !== 'all') fail(`${field}.assignment`, '"random" or "all"', o.assignment);
  if (o.criterion !== undefined && o.criterion !== 'auroc' && o.criterion !== 'fpr95') fail(`${field}.criterion`, '"auroc" or "fpr95"', o.criterion);
  return {
    val, ...(corruptions ? { corruptions } : {}), ...(severities ? { severities } : {}),
    ...(o.assignment !== undefined ? { assignment: o.assignment as 'random' | 'all' } : {}),
    ...(o.seed !== undefined ? { seed: int(o.seed, `${field}.seed`, 0, 0, 0xffffffff) } : {}),
    ...(o.criterion !== undefined ? { criterion: o.criterion as 'auroc' | 'fpr95' } : {}),
  };
}

function layers(v: unknown, field: string): 'auto' | string[] {
  if (v === undefined || v === 'auto') return 'auto';
  if (!Array.isArray(v) || v.length === 0) fail(field, '"auto" or a non-empty array of layer names (napood inspect lists them)', v);
  const out = v.map((x, i) => text(x, `${field}[${i}]`));
  if (new Set(out).size !== out.length) fail(field, 'each layer once', v);
  return out;
}

function combos(v: unknown, field: string): string[][] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) fail(field, 'a non-empty array of layer-name arrays', v);
  return v.map((c, i) => {
    if (!Array.isArray(c) || c.length < 2) fail(`${field}[${i}]`, 'an array of at least two layer names', c);
    return c.map((x, j) => text(x, `${field}[${i}][${j}]`));
  });
}

function methods(v: unknown, paperW: ReportConfig['paperW']): MethodSpec[] {
  const given = v !== undefined;
  if (given && (!Array.isArray(v) || v.length === 0)) fail('methods', 'a non-empty array of method specs such as "nap" or "nap-e:w=0.4"', v);
  const list = (given ? (v as unknown[]) : [...DEFAULT_METHODS]).map((x, i) => {
    const t = text(x, `methods[${i}]`);
    let spec = parseMethodSpec(t, `methods[${i}]`);
    if (spec.name in NAPX_INNER && spec.given.w === undefined && paperW !== 'imagenet') {
      spec = parseMethodSpec(`${spec.name}:w=${PAPER_W[paperW][spec.name]}${Object.entries(spec.given).map(([k, x]) => `,${k}=${x}`).join('')}`, `methods[${i}]`);
    }
    return spec;
  });
  // Each computation once: `nap` and `nap:p=2` are the same method.
  const seen = new Map<string, string>();
  list.forEach((s, i) => {
    const key = `${s.name}:${Object.keys(s.params).sort().map((k) => `${k}=${s.params[k]}`).join(',')}`;
    if (seen.has(key)) fail(`methods[${i}]`, `each method spec once (${s.text} is ${seen.get(key)})`, s.text);
    seen.set(key, s.text);
  });
  return list;
}

function sweeps(v: unknown): SweepsConfig {
  const o = v === undefined ? {} : object(v, 'sweeps');
  known(o, ['w', 'nap', 'percentile', '$comment'], 'sweeps');
  const nap = o.nap === undefined ? {} : object(o.nap, 'sweeps.nap');
  known(nap, ['p', 'eps', '$comment'], 'sweeps.nap');
  return {
    w: o.w === undefined ? W_GRID : numbers(o.w, 'sweeps.w', 0, 1),
    nap: {
      p: nap.p === undefined ? [1, 2, 3, 4] : numbers(nap.p, 'sweeps.nap.p', 1e-3, 16),
      eps: nap.eps === undefined ? [0.01, 0.1, 1, 10] : numbers(nap.eps, 'sweeps.nap.eps', 1e-9, 1e6),
    },
    percentile: o.percentile === undefined ? [70, 80, 85, 90, 95] : numbers(o.percentile, 'sweeps.percentile', 0, 99),
  };
}

/** Validate a parsed config (JSON value). */
export function parseReportConfig(json: unknown): ReportConfig {
  const o = object(json, 'config');
  known(o, TOP_KEYS, 'config');
  const paperW = o.paperW === undefined ? 'imagenet' : o.paperW;
  if (paperW !== 'imagenet' && paperW !== 'cifar10' && paperW !== 'cifar100') fail('paperW', '"imagenet", "cifar10" or "cifar100" (the paper\'s w of each NAP-X for that benchmark)', paperW);
  const shared = o.sets === undefined ? {} : sets(o.sets, 'sets');
  const sharedLayers = layers(o.layers, 'layers');
  const sharedCombos = combos(o.layerCombos, 'layerCombos');
  const sharedTune = tune(o.tune, 'tune');
  if (!Array.isArray(o.models) || o.models.length === 0) fail('models', 'a non-empty array of models { name, path, preprocess }', o.models);
  const names = new Set<string>();
  const models = o.models.map((m, i): ModelConfig => {
    const f = `models[${i}]`;
    const mo = object(m, f);
    known(mo, MODEL_KEYS, f);
    const name = text(mo.name, `${f}.name`);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || names.has(name)) fail(`${f}.name`, 'a distinct name of letters, digits, ".", "_" or "-" (it names files)', name);
    names.add(name);
    const own = mo.sets === undefined ? {} : sets(mo.sets, `${f}.sets`);
    const id = own.id ?? shared.id;
    const ood = own.ood ?? shared.ood;
    if (!id) fail(`${f}.sets.id`, 'an ID test set (here or in the shared "sets")', '\u0000none');
    if (!ood) fail(`${f}.sets.ood`, 'OOD sets (here or in the shared "sets")', '\u0000none');
    const train = own.train ?? shared.train;
    let preprocess: ModelConfig['preprocess'];
    if (mo.preprocess !== undefined) preprocess = typeof mo.preprocess === 'string' ? text(mo.preprocess, `${f}.preprocess`) : object(mo.preprocess, `${f}.preprocess`);
    let classes: ModelConfig['classes'];
    if (typeof mo.classes === 'string') classes = text(mo.classes, `${f}.classes`);
    else if (mo.classes !== undefined) {
      if (!Array.isArray(mo.classes) || mo.classes.length === 0) fail(`${f}.classes`, 'an array of class names or a file of them', mo.classes);
      classes = mo.classes.map((c, j) => text(c, `${f}.classes[${j}]`));
    }
    const layerCombos = mo.layerCombos === undefined ? sharedCombos : combos(mo.layerCombos, `${f}.layerCombos`);
    const tuneCfg = mo.tune === undefined ? sharedTune : tune(mo.tune, `${f}.tune`);
    return {
      name, path: text(mo.path, `${f}.path`), preprocess, classes,
      sets: { id, ood, ...(train ? { train } : {}) },
      layers: mo.layers === undefined ? sharedLayers : layers(mo.layers, `${f}.layers`),
      ...(layerCombos ? { layerCombos } : {}),
      ...(tuneCfg ? { tune: tuneCfg } : {}),
    };
  });
  return {
    title: o.title === undefined ? 'napood report' : text(o.title, 'title'),
    models,
    methods: methods(o.methods, paperW),
    paperW,
    sweeps: sweeps(o.sweeps),
    bootstrap: int(o.bootstrap, 'bootstrap', 1000, 0, 100_000),
    seed: int(o.seed, 'seed', 0, 0, 0xffffffff),
    figureSample: int(o.figureSample, 'figureSample', 500, 10, 100_000),
    batchSize: int(o.batchSize, 'batchSize', 32, 1, 4096),
    defaultMethods: o.methods === undefined,
  };
}

/** Parse the text of a config file (`where` names it in messages). */
export function parseReportConfigText(textIn: string, where: string): ReportConfig {
  let json: unknown;
  try { json = JSON.parse(textIn); } catch (e) { throw new NapoodError(where, 'a JSON report configuration', (e as Error).message); }
  try {
    return parseReportConfig(json);
  } catch (e) {
    if (e instanceof NapoodError) throw e.renamed(`${where}: ${e.argument}`);
    throw e;
  }
}
