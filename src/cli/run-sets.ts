/**
 * The commands over sets: score, eval, fit (feature dumps, or images / tensors with --model), and
 * methods. Each parses its flags into the library's options, calls src/app and src/node, prints.
 */
import { extname } from 'node:path';
import { NapoodError, describe } from '../errors.js';
import { checkFitScale, NormMeter } from '../app/checks.js';
import { evaluate, nonFiniteOf, type EvalSet } from '../app/evaluate.js';
import { fitOrLoad } from '../app/fit.js';
import { csvTable, markdownTable, textTable } from '../app/report.js';
import { parseStateFile, stateFileText } from '../app/state-file.js';
import { METHODS } from '../methods/registry.js';
import { checkOutputs, writeOutputs } from '../node/outputs.js';
import { writeNpy } from '../node/io/npy.js';
import { readRegularFile } from '../node/io/file.js';
import { checkSources, scoreSource, type BatchSource, type FittedMethod } from '../run/pipeline.js';
import { parseMethodList, parseMethodSpec, type MethodSpec } from '../run/spec.js';
import type { FeatureBatch, Head, NapoodEvents } from '../types.js';
import { intOption, listOption, parseCommand, stringOption, type Values } from './args.js';
import { progressLine } from './progress.js';
import { SetContext, stderrEvents } from './sets.js';
import { evalSpec, fitSpec, methodsSpec, scoreSpec } from './specs.js';

/** `--method` and `--methods` are one option: the value of whichever was given. */
function methodOption(values: Values, required: boolean): string | undefined {
  const a = stringOption(values, 'method');
  const b = stringOption(values, 'methods');
  if (a !== undefined && b !== undefined) throw new NapoodError('--method', 'either --method or --methods (they are the same option)', 'both');
  const v = a ?? b;
  if (v === undefined && required) throw new NapoodError('--methods', 'a value (it is required), e.g. nap,energy', 'nothing');
  return v;
}

function readStateFile(path: string): Map<string, unknown> {
  const text = new TextDecoder().decode(readRegularFile(path, '--state', 'a readable JSON state file written by `napood fit`'));
  return parseStateFile(text, path);
}

/** Fit (or load from --state) with a progress line; the mean pooled norm of the fit set is measured on the way. */
async function prepare(specs: MethodSpec[], values: Values, head: Head | undefined, train: BatchSource | undefined, events: NapoodEvents, channels: number | undefined, meter?: NormMeter): Promise<FittedMethod[]> {
  const statePath = stringOption(values, 'state');
  const states = statePath ? readStateFile(statePath) : undefined;
  const source = train && meter ? observed(train, meter) : train;
  return fitOrLoad(specs, { train: source, head, states, events, channels });
}

/** A source whose first pass feeds the pooled features to a meter. */
function observed(source: BatchSource, meter: NormMeter): BatchSource {
  let pass = 0;
  return Object.assign(Object.create(source) as BatchSource, {
    async *batches(fields: Parameters<BatchSource['batches']>[0], layers?: readonly string[]) {
      const first = pass++ === 0;
      for await (const b of (layers?.length ? source.batches(fields, layers) : source.batches(fields)) as AsyncIterable<FeatureBatch>) {
        if (first && b.pooled) meter.add(b.pooled.data, b.pooled.c);
        yield b;
      }
    },
  });
}

/** Scores that are not finite are never written or summarised as results. */
function refuseNonFinite(scores: Float64Array, method: string, set: string): void {
  const bad = nonFiniteOf(scores);
  if (bad.count) {
    throw new NapoodError(method, 'finite scores', `${bad.count} of ${scores.length} scores on ${set} are NaN or ±Inf (first at row ${bad.first}; check the method's parameters, the fitted state and the input normalisation)`);
  }
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function runScore(argv: string[]): Promise<number> {
  const values = parseCommand(scoreSpec, argv);
  const features = stringOption(values, 'features', true);
  const out = stringOption(values, 'out', true);
  const ext = extname(out).toLowerCase();
  if (ext !== '.npy' && ext !== '.csv') throw new NapoodError('--out', 'a file name ending in .npy or .csv', JSON.stringify(out));
  const spec = parseMethodSpec(methodOption(values, true)!, values.method !== undefined ? '--method' : '--methods');
  const fitPath = stringOption(values, 'fit');
  checkOutputs([{ flag: '--out', path: out }], [features, fitPath, stringOption(values, 'state'), stringOption(values, 'head'), stringOption(values, 'model')].filter((p): p is string => p !== undefined));
  const progress = progressLine();
  const events = stderrEvents(progress);
  const sets = await SetContext.create(values, events, spec.layers ?? []);
  try {
    const train = fitPath ? await sets.open(fitPath, '--fit', 'train') : undefined;
    const source = await sets.open(features, '--features', 'features');
    const head = sets.head();
    sets.check(head);
    if (!stringOption(values, 'state')) checkSources([spec], [source], train, head);
    const [fitted] = await prepare([spec], values, head, train, stderrEvents(progress, 'fit'), sets.channels());
    const run = await scoreSource([fitted], source, head, stderrEvents(progress, 'score').progress);
    progress.done();
    sets.reportSummaries();
    const result = run.results[0];
    if (result.diagnostics.negativeActivations) events.warning!(`--features: ${result.diagnostics.negativeActivations} negative activations in featureMap (${result.spec.text} assumes post-ReLU maps)`);
    if (result.diagnostics.nonPositiveX) events.note!(`note: --features: ${result.diagnostics.nonPositiveX} of ${run.n} samples had S_X ≤ 0 under ${result.spec.text} and were scored 0`);
    refuseNonFinite(result.scores, result.spec.text, '--features');
    if (ext === '.npy') {
      writeNpy(out, result.scores, [result.scores.length], '--out');
    } else {
      const rows = run.paths
        ? Array.from(result.scores, (score, i) => `${csvField(run.paths![i])},${score}`)
        : Array.from(result.scores, (x) => String(x));
      writeOutputs([{ flag: '--out', path: out, data: Buffer.from(`${run.paths ? 'path,score' : 'score'}\n${rows.join('\n')}\n`) }]);
    }
    return 0;
  } finally {
    progress.done();
    await sets.close();
  }
}

function parseOodList(values: Values): { name: string; path: string }[] {
  const items = listOption(values, 'ood');
  if (items.length === 0) throw new NapoodError('--ood', 'at least one OOD set as NAME=DUMP', 'none');
  const seen = new Set<string>();
  return items.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new NapoodError('--ood', 'NAME=DUMP (e.g. svhn=svhn.safetensors)', JSON.stringify(item));
    const name = item.slice(0, eq);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) throw new NapoodError('--ood', 'a set name without control characters (tab, CR, LF, …)', JSON.stringify(name));
    if (seen.has(name) || name === 'Average' || name === 'id') throw new NapoodError('--ood', 'distinct set names (not "id" or "Average")', JSON.stringify(name));
    seen.add(name);
    const path = item.slice(eq + 1);
    if (path.toLowerCase().endsWith('.txt') && !path.startsWith('@')) {
      throw new NapoodError(`--ood ${name}`, `an image file, folder, dump or @list.txt (a list of image paths is named with @: ${name}=@${path})`, describe(path));
    }
    return { name, path };
  });
}

export async function runEval(argv: string[]): Promise<number> {
  const values = parseCommand(evalSpec, argv);
  const idPath = stringOption(values, 'id', true);
  const oodList = parseOodList(values);
  const methodText = methodOption(values, false);
  const specs = parseMethodList(methodText ?? 'nap,energy,msp,maxlogit', values.method !== undefined ? '--method' : '--methods');
  const bootstrap = intOption(values, 'bootstrap', 1000, 0, 100_000);
  const seed = intOption(values, 'seed', 0, 0, 0xffffffff);
  const jsonPath = stringOption(values, 'json');
  const csvPath = stringOption(values, 'csv');
  const mdPath = stringOption(values, 'md');
  const fitPath = stringOption(values, 'fit');
  const outputs = [{ flag: '--json', path: jsonPath }, { flag: '--csv', path: csvPath }, { flag: '--md', path: mdPath }]
    .filter((o): o is { flag: string; path: string } => o.path !== undefined && o.path !== '-');
  if (csvPath === '-' || mdPath === '-') throw new NapoodError(csvPath === '-' ? '--csv' : '--md', 'a file path (only --json takes - for stdout)', '-');
  checkOutputs(outputs, [idPath, ...oodList.map((o) => o.path.replace(/^@/, '')), fitPath, stringOption(values, 'state'), stringOption(values, 'head'), stringOption(values, 'model')].filter((p): p is string => p !== undefined));
  const progress = progressLine();
  const events = stderrEvents(progress);
  const sets = await SetContext.create(values, events, specs.flatMap((s) => s.layers ?? []));
  try {
    // The ID-train set first: with a model its class folders define the label order.
    const train = fitPath ? await sets.open(fitPath, '--fit', 'train') : undefined;
    const id = await sets.open(idPath, '--id', 'id');
    const oods: EvalSet[] = [];
    for (const o of oodList) oods.push({ name: o.name, path: o.path, source: await sets.open(o.path, `--ood ${o.name}`, 'ood') });
    const head = sets.head();
    sets.check(head);
    if (!stringOption(values, 'state')) checkSources(specs, [id, ...oods.map((o) => o.source)], train, head);
    const fitMeter = new NormMeter();
    const fitted = await prepare(specs, values, head, train, stderrEvents(progress, 'fit'), sets.channels(), fitMeter);
    const idMeter = new NormMeter();
    const { report } = await evaluate(fitted, { source: observed(id, idMeter), path: idPath }, oods, {
      head, bootstrap, seed, model: sets.model?.info.file, events: stderrEvents(progress, 'score'),
    });
    progress.done();
    sets.reportSummaries();
    if (train && specs.some((s) => s.def.fit)) checkFitScale(fitMeter.mean, idMeter.mean, events);
    const table = textTable(report);
    const json = JSON.stringify(report, null, 2) + '\n';
    if (jsonPath === '-') {
      process.stderr.write(table);
      process.stdout.write(json);
    } else {
      process.stdout.write(table);
    }
    const files = [];
    if (jsonPath && jsonPath !== '-') files.push({ flag: '--json', path: jsonPath, data: Buffer.from(json) });
    if (csvPath) files.push({ flag: '--csv', path: csvPath, data: Buffer.from(csvTable(report)) });
    if (mdPath) files.push({ flag: '--md', path: mdPath, data: Buffer.from(markdownTable(report)) });
    writeOutputs(files);
    if (report.nonFinite?.length) {
      for (const b of report.nonFinite) process.stderr.write(`napood eval: ${b.method}: expected finite scores, found ${b.count} of ${b.of} NaN or ±Inf on ${b.set === 'id' ? '--id' : `--ood ${b.set}`} (first at row ${b.first_row}); those cells are n/a\n`);
      return 2;
    }
    return 0;
  } finally {
    progress.done();
    await sets.close();
  }
}

export async function runFit(argv: string[]): Promise<number> {
  const values = parseCommand(fitSpec, argv);
  const out = stringOption(values, 'out', true);
  const fitPath = stringOption(values, 'fit', true);
  const specs = parseMethodList(methodOption(values, true)!, values.method !== undefined ? '--method' : '--methods');
  checkOutputs([{ flag: '--out', path: out }], [fitPath, stringOption(values, 'head'), stringOption(values, 'model')].filter((p): p is string => p !== undefined));
  const progress = progressLine();
  const events = stderrEvents(progress);
  const sets = await SetContext.create(values, events);
  try {
    const train = await sets.open(fitPath, '--fit', 'train');
    const head = sets.head();
    sets.check(head);
    checkSources(specs, [], train, head);
    if (!specs.some((s) => s.def.fit)) throw new NapoodError('--methods', 'at least one method with a fit step (mahalanobis, react, dice, knn, vim, nap-r, nap-d)', specs.map((s) => s.text).join(','));
    const fitted = await prepare(specs, { ...values, state: undefined }, head, train, stderrEvents(progress, 'fit'), sets.channels());
    progress.done();
    sets.reportSummaries();
    writeOutputs([{ flag: '--out', path: out, data: Buffer.from(stateFileText(fitted)) }]);
    return 0;
  } finally {
    progress.done();
    await sets.close();
  }
}

export async function runMethods(argv: string[]): Promise<number> {
  const values = parseCommand(methodsSpec, argv);
  const list = [...METHODS.values()].map((d) => ({
    name: d.name, summary: d.summary, source: d.source, needs: d.needs, fit: Boolean(d.fit), fitNeeds: d.fitNeeds ?? [],
    params: Object.fromEntries(Object.entries(d.params).map(([k, p]) => [k, { default: p.default, doc: p.doc, ...(p.defaultText ? { defaultText: p.defaultText } : {}) }])),
  }));
  if (values.json) { process.stdout.write(JSON.stringify(list, null, 2) + '\n'); return 0; }
  const lines: string[] = [];
  for (const m of list) {
    const params = Object.entries(m.params).map(([k, p]) => `${k}=${p.defaultText ?? p.default}`).join(',');
    lines.push(`${m.name}${params ? ':' + params : ''}`);
    lines.push(`    ${m.summary}`);
    lines.push(`    needs: ${m.needs.join(', ')}${m.fit ? `; fit on ID-train ${m.fitNeeds.join(', ')}` : ''}   source: ${m.source}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
