/**
 * The CLI commands over feature dumps: score, eval, fit, methods.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { NapoodError } from '../errors.js';
import { checkSources, fitMethods, scoreSource, type FittedMethod, type MethodResult } from '../run/pipeline.js';
import { parseMethodList, parseMethodSpec, type MethodSpec } from '../run/spec.js';
import { decodeState, encodeState } from '../run/state.js';
import { writeFileAtomic } from '../node/io/atomic.js';
import { writeNpy } from '../node/io/npy.js';
import { bootstrapCI, evaluateBinary } from '../metrics/index.js';
import { METHODS } from '../methods/registry.js';
import type { Head } from '../types.js';
import { helpText, intOption, listOption, parseCommand, stringOption, type CommandSpec, type Values } from './args.js';
import { progressLine } from './progress.js';
import { csvTable, markdownTable, textTable, type EvalReport, type MethodReport, type SetMetrics } from './report.js';
import { dumpSpec, inspectSpec, runDump, runInspect } from './model-commands.js';
import { SetContext, fitSampleOptions, idLabelsOption, modelSetOptions, type CliSource } from './sets.js';
import type { BatchSource } from '../run/pipeline.js';

export interface Command {
  readonly spec: CommandSpec;
  help(): string;
  run(argv: string[]): Promise<number>;
}

import { VERSION } from '../version.js';

const commonOptions = {
  fit: { type: 'string', value: 'DUMP', help: 'ID-train features for methods that fit statistics (mahalanobis, react, dice, knn, vim, nap-r, nap-d)' },
  state: { type: 'string', value: 'FILE', help: 'fitted state saved by `napood fit` (instead of --fit)' },
  head: { type: 'string', value: 'FILE', help: 'classifier head (head.weight [K,C], head.bias [K]) when the dumps lack it' },
  'batch-rows': { type: 'string', value: 'N', help: 'rows per batch (default: about 32 MB of features per batch)' },
} as const;

// ---------------------------------------------------------------------------------------------
// Fitting, shared by score / eval / fit
// ---------------------------------------------------------------------------------------------

interface StateFile {
  napood: number;
  methods: { spec: string; name: string; params: Record<string, number>; state: unknown }[];
}

function readStateFile(path: string): Map<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new NapoodError('--state', 'a JSON state file written by `napood fit`', `${path}: ${(err as Error).message}`);
  }
  const file = parsed as StateFile;
  if (!file || file.napood !== 1 || !Array.isArray(file.methods)) throw new NapoodError('--state', 'a napood state file (version 1)', path);
  const out = new Map<string, unknown>();
  for (const entry of file.methods) out.set(parseMethodSpec(entry.spec, '--state').text, decodeState(entry.state, '--state'));
  return out;
}

async function prepare(specs: MethodSpec[], values: Values, head: Head | undefined, fitSource: BatchSource | undefined, label: string): Promise<FittedMethod[]> {
  const statePath = stringOption(values, 'state');
  if (statePath) {
    const states = readStateFile(statePath);
    const missing = specs.filter((s) => s.def.fit && !states.has(s.text));
    const fitted = missing.length ? await fitMethods(missing, fitSource, head) : [];
    return specs.map((s) => (s.def.fit && states.has(s.text) ? { spec: s, state: states.get(s.text) } : fitted.find((f) => f.spec === s) ?? { spec: s, state: undefined }));
  }
  const progress = progressLine();
  try {
    return await fitMethods(specs, fitSource, head, progress.update(label));
  } finally {
    progress.done();
  }
}

function warnDiagnostics(result: MethodResult, set: string, n: number): void {
  const d = result.diagnostics;
  if (d.negativeActivations) process.stderr.write(`napood: warning: ${set}: ${d.negativeActivations} negative activations in featureMap (${result.spec.text} assumes post-ReLU maps)\n`);
  if (d.nonPositiveX) process.stderr.write(`napood: note: ${set}: ${d.nonPositiveX} of ${n} samples had S_X ≤ 0 under ${result.spec.text} and were scored 0\n`);
}

// ---------------------------------------------------------------------------------------------
// score
// ---------------------------------------------------------------------------------------------

const scoreSpec: CommandSpec = {
  name: 'score',
  summary: 'score every sample of a feature dump (or images run through an ONNX model) with one method',
  usage: 'napood score --features DUMP --method SPEC [--fit TRAIN_DUMP | --state FILE] --out FILE.npy|FILE.csv\n       napood score --model MODEL.onnx --features IMAGES|X.npy --method SPEC [--fit IMAGES] [preprocessing] --out FILE.npy|FILE.csv',
  options: {
    features: { type: 'string', value: 'DUMP', help: 'feature dump: a .safetensors file or a directory of .npy files' },
    method: { type: 'string', value: 'SPEC', help: 'method with optional parameters, e.g. nap, nap:eps=1,p=2, nap-e:w=0.4, ash-s:p=95' },
    out: { type: 'string', value: 'FILE', help: 'scores: .npy (float64, shape [N]) or .csv (one score per line, with header)' },
    ...commonOptions,
    ...modelSetOptions,
    ...fitSampleOptions,
  },
  examples: [
    'napood score --features test.safetensors --method nap --out nap.npy',
    'napood score --model resnet18.onnx --preset imagenet --features photos/ --method nap --out nap.csv',
    'napood score --features test/ --method react:p=90 --fit train/ --out react.csv',
  ],
};

async function runScore(argv: string[]): Promise<number> {
  const values = parseCommand(scoreSpec, argv);
  const features = stringOption(values, 'features', true);
  const out = stringOption(values, 'out', true);
  const ext = extname(out).toLowerCase();
  if (ext !== '.npy' && ext !== '.csv') throw new NapoodError('--out', 'a file name ending in .npy or .csv', JSON.stringify(out));
  const spec = parseMethodSpec(stringOption(values, 'method', true), '--method');
  const sets = await SetContext.create(values);
  try {
    const fitPath = stringOption(values, 'fit');
    const train = fitPath ? await sets.open(fitPath, '--fit', 'train') : undefined;
    const source = await sets.open(features, '--features', 'features');
    const head = sets.head();
    sets.check(head);
    if (!stringOption(values, 'state')) checkSources([spec], [source], train, head);
    const [fitted] = await prepare([spec], values, head, train, 'fit');
    const progress = progressLine();
    let run;
    try {
      run = await scoreSource([fitted], source, head, progress.update('score'));
    } finally {
      progress.done();
    }
    sets.reportSummaries();
    const result = run.results[0];
    warnDiagnostics(result, '--features', run.n);
    if (ext === '.npy') {
      writeNpy(out, result.scores, [result.scores.length], '--out');
    } else if (run.paths) {
      // Images: one row per decoded image, with its path (skipped images are listed on stderr).
      const rows = Array.from(result.scores, (score, i) => `${csvField(run.paths![i])},${score}`);
      writeFileAtomic(out, Buffer.from(`path,score\n${rows.join('\n')}\n`), '--out');
    } else {
      writeFileAtomic(out, Buffer.from(`score\n${Array.from(result.scores, (x) => String(x)).join('\n')}\n`), '--out');
    }
    return 0;
  } finally {
    await sets.close();
  }
}

/** A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

// ---------------------------------------------------------------------------------------------
// eval
// ---------------------------------------------------------------------------------------------

const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'evaluate methods on ID vs OOD sets (dumps, or images with --model) and print the paper\'s table (FPR95, AUROC per OOD set, average)',
  usage: 'napood eval --id DUMP --ood NAME=DUMP [--ood NAME=DUMP …] --methods SPEC,SPEC,… [--fit TRAIN_DUMP] [--json FILE] [--csv FILE] [--md FILE]\n       napood eval --model MODEL.onnx --id IMAGES --ood NAME=IMAGES […] --methods … [--fit IMAGES] [preprocessing]   (IMAGES: files, a folder, @list.txt, an NCHW .npy, or a dump made with this model)',
  options: {
    id: { type: 'string', value: 'DUMP', help: 'in-distribution test features (with --model: images, a folder, @list.txt or an NCHW .npy)' },
    ood: { type: 'string', multiple: true, value: 'NAME=DUMP', help: 'an OOD set (repeat for each set; with --model: images as for --id)' },
    methods: { type: 'string', value: 'LIST', help: 'comma-separated method specs, e.g. nap,energy,nap-e:w=0.4,react:p=90 (default: nap,energy,msp,maxlogit)' },
    json: { type: 'string', value: 'FILE', help: 'write the full report as JSON (- for stdout: the table then goes to stderr)' },
    csv: { type: 'string', value: 'FILE', help: 'write one row per method and OOD set as CSV' },
    md: { type: 'string', value: 'FILE', help: 'write the table as Markdown' },
    bootstrap: { type: 'string', value: 'N', help: 'bootstrap replicates for 95% intervals of FPR95 and AUROC (default 1000; 0 = none)' },
    seed: { type: 'string', value: 'S', help: 'bootstrap seed (default 0)' },
    ...commonOptions,
    ...modelSetOptions,
    ...fitSampleOptions,
    ...idLabelsOption,
  },
  examples: [
    'napood eval --model resnet18.onnx --preset imagenet --id val/ --ood textures=dtd/ --fit train/ --methods nap,energy,react,odin',
    'napood eval --id id.safetensors --ood svhn=svhn.safetensors --ood lsun=lsun.safetensors --methods nap,energy,nap-e:w=0.4',
    'napood eval --id id/ --ood textures=tex/ --methods react,dice,nap-r --fit train/ --json report.json',
  ],
};

function parseOodList(values: Values): { name: string; path: string }[] {
  const items = listOption(values, 'ood');
  if (items.length === 0) throw new NapoodError('--ood', 'at least one OOD set as NAME=DUMP', 'none');
  const seen = new Set<string>();
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new NapoodError('--ood', 'NAME=DUMP (e.g. svhn=svhn.safetensors)', JSON.stringify(item));
    const name = item.slice(0, eq);
    if (seen.has(name) || name === 'Average' || name === 'id') throw new NapoodError('--ood', 'distinct set names (not "id" or "Average")', JSON.stringify(name));
    seen.add(name);
    return { name, path: item.slice(eq + 1) };
  });
}

function setMetrics(id: Float64Array, ood: Float64Array, bootstrap: number, seed: number): SetMetrics {
  const m = evaluateBinary(id, ood);
  const out: SetMetrics = {
    fpr95: 100 * m.fpr95, auroc: 100 * m.auroc, aupr_in: 100 * m.auprIn, aupr_out: 100 * m.auprOut, detection_error: 100 * m.detectionError,
  };
  if (bootstrap > 0) {
    const ci = bootstrapCI(id, ood, { iterations: bootstrap, seed });
    out.fpr95_ci = [100 * ci.fpr95[0], 100 * ci.fpr95[1]];
    out.auroc_ci = [100 * ci.auroc[0], 100 * ci.auroc[1]];
  }
  return out;
}

function average(sets: SetMetrics[]): SetMetrics {
  const mean = (key: 'fpr95' | 'auroc' | 'aupr_in' | 'aupr_out' | 'detection_error') => sets.reduce((s, m) => s + m[key], 0) / sets.length;
  return { fpr95: mean('fpr95'), auroc: mean('auroc'), aupr_in: mean('aupr_in'), aupr_out: mean('aupr_out'), detection_error: mean('detection_error') };
}

async function runEval(argv: string[]): Promise<number> {
  const values = parseCommand(evalSpec, argv);
  const idPath = stringOption(values, 'id', true);
  const oodList = parseOodList(values);
  const specs = parseMethodList(stringOption(values, 'methods') ?? 'nap,energy,msp,maxlogit', '--methods');
  const bootstrap = intOption(values, 'bootstrap', 1000, 0);
  const seed = intOption(values, 'seed', 0, 0);
  const jsonPath = stringOption(values, 'json');
  const sets = await SetContext.create(values);
  try {
    // The ID-train set first: with a model its class folders define the label order.
    const fitPath = stringOption(values, 'fit');
    const train = fitPath ? await sets.open(fitPath, '--fit', 'train') : undefined;
    const id = await sets.open(idPath, '--id', 'id');
    const oods: { name: string; path: string; source: CliSource }[] = [];
    for (const o of oodList) oods.push({ ...o, source: await sets.open(o.path, `--ood ${o.name}`, 'ood') });
    const head = sets.head();
    sets.check(head);
    if (!stringOption(values, 'state')) checkSources(specs, [id, ...oods.map((o) => o.source)], train, head);
    const fitted = await prepare(specs, values, head, train, 'fit');
    const progress = progressLine();
    let idRun, oodRuns;
    try {
      idRun = await scoreSource(fitted, id, head, progress.update('ID'));
      oodRuns = [];
      for (const o of oods) oodRuns.push(await scoreSource(fitted, o.source, head, progress.update(o.name)));
    } finally {
      progress.done();
    }
    sets.reportSummaries();
    const methods: MethodReport[] = fitted.map((f, i) => {
      const idScores = idRun.results[i].scores;
      const results: Record<string, SetMetrics> = {};
      const diagnostics: Record<string, Record<string, number>> = { id: idRun.results[i].diagnostics };
      oods.forEach((o, j) => {
        results[o.name] = setMetrics(idScores, oodRuns[j].results[i].scores, bootstrap, seed);
        diagnostics[o.name] = oodRuns[j].results[i].diagnostics;
      });
      const acc = idRun.results[i].accuracy;
      return {
        method: f.spec.text,
        params: { ...f.spec.params },
        ...(acc && acc.total > 0 ? { id_accuracy: (100 * acc.correct) / acc.total } : {}),
        results,
        average: average(Object.values(results)),
        diagnostics,
      };
    });
    const report: EvalReport = {
      napood: VERSION,
      units: 'percent',
      ...(sets.model ? { model: sets.model.info.file } : {}),
      id: { path: idPath, n: idRun.n, ...(idRun.accuracy && idRun.accuracy.total > 0 ? { accuracy: (100 * idRun.accuracy.correct) / idRun.accuracy.total } : {}) },
      ood: oods.map((o, j) => ({ name: o.name, path: o.path, n: oodRuns[j].n })),
      ...(bootstrap > 0 ? { bootstrap: { iterations: bootstrap, seed, confidence: 0.95 } } : {}),
      methods,
    };
    for (let i = 0; i < fitted.length; i++) {
      const neg = idRun.results[i].diagnostics.negativeActivations;
      if (neg) process.stderr.write(`napood: warning: --id: ${neg} negative activations in featureMap (${fitted[i].spec.text} assumes post-ReLU maps)\n`);
    }
    const table = textTable(report);
    if (jsonPath === '-') {
      process.stderr.write(table);
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      process.stdout.write(table);
      if (jsonPath) writeFileAtomic(jsonPath, Buffer.from(JSON.stringify(report, null, 2) + '\n'), '--json');
    }
    const csvPath = stringOption(values, 'csv');
    if (csvPath) writeFileAtomic(csvPath, Buffer.from(csvTable(report)), '--csv');
    const mdPath = stringOption(values, 'md');
    if (mdPath) writeFileAtomic(mdPath, Buffer.from(markdownTable(report)), '--md');
    return 0;
  } finally {
    await sets.close();
  }
}

// ---------------------------------------------------------------------------------------------
// fit
// ---------------------------------------------------------------------------------------------

const fitSpec: CommandSpec = {
  name: 'fit',
  summary: 'fit the ID statistics of methods once and save them as JSON (reuse with --state)',
  usage: 'napood fit --fit TRAIN_DUMP --methods SPEC,SPEC,… --out STATE.json\n       napood fit --model MODEL.onnx --fit IMAGES --methods SPEC,SPEC,… [preprocessing] --out STATE.json',
  options: {
    fit: commonOptions.fit,
    methods: { type: 'string', value: 'LIST', help: 'comma-separated method specs to fit' },
    out: { type: 'string', value: 'FILE', help: 'state file (JSON)' },
    head: commonOptions.head,
    'batch-rows': commonOptions['batch-rows'],
    ...modelSetOptions,
    ...fitSampleOptions,
  },
  examples: [
    'napood fit --fit train.safetensors --methods react,dice,knn:k=50 --out state.json',
    'napood fit --model resnet18.onnx --preset imagenet --fit train/ --methods react,mahalanobis --out state.json',
  ],
};

async function runFit(argv: string[]): Promise<number> {
  const values = parseCommand(fitSpec, argv);
  const out = stringOption(values, 'out', true);
  const fitPath = stringOption(values, 'fit', true);
  const specs = parseMethodList(stringOption(values, 'methods', true), '--methods');
  const sets = await SetContext.create(values);
  try {
    const train = await sets.open(fitPath, '--fit', 'train');
    const head = sets.head();
    sets.check(head);
    checkSources(specs, [], train, head);
    if (!specs.some((s) => s.def.fit)) throw new NapoodError('--methods', 'at least one method with a fit step (mahalanobis, react, dice, knn, vim, nap-r, nap-d)', specs.map((s) => s.text).join(','));
    const fitted = await prepare(specs, { ...values, state: undefined }, head, train, 'fit');
    sets.reportSummaries();
    const file: StateFile = {
      napood: 1,
      methods: fitted.filter((f) => f.spec.def.fit).map((f) => ({ spec: f.spec.text, name: f.spec.name, params: { ...f.spec.params }, state: encodeState(f.state) })),
    };
    writeFileAtomic(out, Buffer.from(JSON.stringify(file) + '\n'), '--out');
    return 0;
  } finally {
    await sets.close();
  }
}

// ---------------------------------------------------------------------------------------------
// methods
// ---------------------------------------------------------------------------------------------

const methodsSpec: CommandSpec = {
  name: 'methods',
  summary: 'list the scoring methods, what they need and their parameters',
  usage: 'napood methods [--json]',
  options: { json: { type: 'boolean', help: 'machine-readable list' } },
  examples: ['napood methods'],
};

async function runMethods(argv: string[]): Promise<number> {
  const values = parseCommand(methodsSpec, argv);
  const list = [...METHODS.values()].map((d) => ({
    name: d.name, summary: d.summary, source: d.source, needs: d.needs, fit: Boolean(d.fit), fitNeeds: d.fitNeeds ?? [],
    params: Object.fromEntries(Object.entries(d.params).map(([k, p]) => [k, { default: p.default, doc: p.doc }])),
  }));
  if (values.json) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return 0; }
  const lines: string[] = [];
  for (const m of list) {
    const params = Object.entries(m.params).map(([k, p]) => `${k}=${p.default}`).join(',');
    lines.push(`${m.name}${params ? ':' + params : ''}`);
    lines.push(`    ${m.summary}`);
    lines.push(`    needs: ${m.needs.join(', ')}${m.fit ? `; fit on ID-train ${m.fitNeeds.join(', ')}` : ''}   source: ${m.source}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

function command(spec: CommandSpec, run: (argv: string[]) => Promise<number>): Command {
  return { spec, help: () => helpText(spec), run };
}

export const commands: Record<string, Command> = {
  score: command(scoreSpec, runScore),
  eval: command(evalSpec, runEval),
  fit: command(fitSpec, runFit),
  methods: command(methodsSpec, runMethods),
  inspect: command(inspectSpec, runInspect),
  dump: command(dumpSpec, (argv) => runDump(argv)),
};
