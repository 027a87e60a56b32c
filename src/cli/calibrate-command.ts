/**
 * `napood calibrate`: a detector for a method the user has fixed, without tuning and so without
 * --val: `napood calibrate --model M --methods nap-e:w=0.5 [--fit TRAIN] --cal CAL --out D`.
 * Flags as `napood tune`'s (--model and preprocessing, --fit, --methods, --cal, --tpr,
 * --bootstrap, --seed, --out, --json). Exactly one method, every parameter tune would search
 * fixed: a NAP-X needs its w (`nap-e` alone is refused, naming what to add, since tune would
 * search that w); plain methods take their defaults as tune does. The detector file records
 * `chosen_by: "user"` and has no tune report. Also the pieces shared with tune-command.ts: the
 * detector description from the sets, the threshold text.
 */
import { NapoodError, describe } from '../errors.js';
import { calibrate, calibrationSummary, type Calibration } from '../app/calibrate.js';
import { calibrationScores, checkCalibrationSize, detectorModelPart } from '../app/detector-build.js';
import { encodeDetector, type DetectorData } from '../app/detector-file.js';
import type { TuneReport } from '../app/tune.js';
import { NAPX_INNER } from '../methods/napx.js';
import { sha256File } from '../node/io/sha256.js';
import { checkOutputs, samePath, writeOutputs } from '../node/outputs.js';
import type { DumpSource } from '../node/sources.js';
import { fitOrLoad } from '../app/fit.js';
import { parseStateFile } from '../app/state-file.js';
import { readRegularFile } from '../node/io/file.js';
import { checkSources, type BatchSource, type FittedMethod } from '../run/pipeline.js';
import { parseMethodList, type MethodSpec } from '../run/spec.js';
import type { Head } from '../types.js';
import { VERSION } from '../version.js';
import { intOption, numberOption, parseCommand, stringOption } from './args.js';
import { progressLine } from './progress.js';
import { SetContext, stderrEvents } from './sets.js';
import { calibrateSpec } from './specs.js';

/** The model of dumps (their `model` / `model_sha256` metadata), refused when the sets disagree. */
function dumpModel(sources: readonly (BatchSource | undefined)[]): DetectorData['model'] {
  let found: { file?: string; sha256?: string; label: string } | undefined;
  for (const s of sources) {
    const meta = (s as DumpSource | undefined)?.dump?.metadata;
    if (!meta) continue;
    const sha = meta.model_sha256;
    if (found?.sha256 && sha && sha !== found.sha256) throw new NapoodError(s!.label, `a dump of the same model as ${found.label} (sha256 ${found.sha256.slice(0, 12)}…)`, `sha256 ${sha.slice(0, 12)}…`);
    if (!found || (!found.sha256 && sha)) found = { ...(meta.model ? { file: meta.model } : {}), ...(sha ? { sha256: sha } : {}), label: s!.label };
  }
  return found ? { ...(found.file ? { file: found.file } : {}), ...(found.sha256 ? { sha256: found.sha256 } : {}) } : {};
}

/** The detector description from a command's sets: the model (or the dumps' model), features, classes, preprocessing. */
export function detectorData(sets: SetContext, head: Head | undefined, cal: BatchSource, others: readonly (BatchSource | undefined)[], d: { method: FittedMethod; calibration: Calibration; calPath: string; tune?: TuneReport }): DetectorData {
  const model = sets.model;
  const classes = sets.classNames;
  const dumpOf = cal as DumpSource;
  return {
    ...(model ? detectorModelPart(model.info, sha256File(model.info.file, '--model')) : {
      model: dumpModel([cal, ...others]),
      source: 'dumps' as const,
      features: { ...(dumpOf.featureMapShape ? { featureMap: dumpOf.featureMapShape.slice(1) } : {}), ...(dumpOf.channels !== undefined ? { pooled: dumpOf.channels } : {}), ...(head ? { classes: head.k } : dumpOf.classes !== undefined ? { classes: dumpOf.classes } : {}) },
    }),
    ...(classes?.length ? { classes } : {}),
    ...(model ? { preprocess: sets.preprocess! } : {}),
    method: d.method,
    calibration: d.calibration,
    calibrationSet: d.calPath,
    ...(d.tune ? { tune: d.tune, chosenBy: 'tune' as const } : { chosenBy: 'user' as const }),
  };
}

/** The threshold and what it guarantees, as tune and calibrate print it. */
export function calibrationText(c: Calibration, method: string): string {
  const p = (x: number) => (100 * x).toFixed(2);
  const ci = c.realisedTprCi ? ` (95 % bootstrap interval ${p(c.realisedTprCi[0])}–${p(c.realisedTprCi[1])} %)` : '';
  const b = c.tprLowerBound;
  return `\nthreshold: ${method} score ≥ ${c.threshold} is ID (α = ${c.alpha}: order statistic k = ⌊α(n + 1)⌋ = ${c.k} of n = ${c.n} calibration scores): TPR ${p(c.realisedTpr)} % on the calibration set${ci}\n`
    + `guarantee for new ID data like the calibration set: expected TPR ≥ ${p(c.expectedTpr)} % (exchangeable); TPR ≥ ${p(b.tpr)} % with probability ${100 * b.confidence} % over the calibration draw (i.i.d.); ID data from elsewhere (another split, source, time) is not covered\n`;
}

export function detectorLine(out: string, method: string, model: string | undefined, chosen: string): string {
  return `detector: ${out} (${method}, ${chosen}; check with napood check --detector ${out}${model ? ` --model ${model}` : ''} INPUT…)\n`;
}

/** The one method to calibrate, every parameter tune would search fixed (see the header). */
export function fixedMethod(specs: readonly MethodSpec[], flag: string): MethodSpec {
  if (specs.length !== 1) throw new NapoodError(flag, 'one method to calibrate (to choose among several without OOD data: napood tune --val SET --methods LIST)', `${specs.length}: ${specs.map((s) => s.text).join(', ')}`);
  const spec = specs[0]!;
  if (spec.layers) throw new NapoodError(flag, 'a method on the map before pooling (detectors do not take multi-layer specs)', spec.text);
  if (NAPX_INNER[spec.name] !== undefined && !('w' in spec.given)) {
    throw new NapoodError(`${flag} ${spec.name}`, `its weight w given, e.g. ${spec.name}:w=${spec.params.w} (napood calibrate tunes nothing), or w tuned on ID-val instead: napood tune --val SET --methods ${spec.text} --cal SET --out DETECTOR`, 'w not given');
  }
  return spec;
}

export async function runCalibrate(argv: string[]): Promise<number> {
  const val = argv.find((a) => a === '--val' || a.startsWith('--val=') || a === '--pseudo-ood' || a.startsWith('--pseudo-ood='));
  if (val !== undefined) throw new NapoodError(val.replace(/=.*$/, ''), 'no ID-val with napood calibrate (it tunes nothing: the method is fixed); to tune w and choose the method on ID-val: napood tune --val SET … --cal SET --out DETECTOR', describe(val));
  const values = parseCommand(calibrateSpec, argv);
  if (values.method !== undefined && values.methods !== undefined) throw new NapoodError('--method', 'either --method or --methods (they are the same option)', 'both');
  const flag = values.method !== undefined ? '--method' : '--methods';
  const methodText = stringOption(values, 'methods') ?? stringOption(values, 'method');
  if (methodText === undefined) throw new NapoodError('--methods', 'the method to calibrate, its parameters fixed (e.g. energy, nap-e:w=0.5); to choose one without OOD data: napood tune --val SET', 'none');
  const spec = fixedMethod(parseMethodList(methodText, flag), flag);
  const calPath = stringOption(values, 'cal', true)!;
  const fitPath = stringOption(values, 'fit');
  const statePath = stringOption(values, 'state');
  const out = stringOption(values, 'out');
  const jsonPath = stringOption(values, 'json');
  const tpr = numberOption(values, 'tpr', 0.95, 0, 1, true);
  const bootstrap = intOption(values, 'bootstrap', 1000, 0, 100_000);
  const seed = intOption(values, 'seed', 0, 0, 0xffffffff);
  if (fitPath !== undefined && samePath(calPath, fitPath)) throw new NapoodError('--cal', 'held-out ID data, not the --fit set (the calibration must not reuse data used for fitting)', describe(calPath));
  if (out === '-') throw new NapoodError('--out', 'a file path', '-');
  const outputs = [{ flag: '--out', path: out }, { flag: '--json', path: jsonPath }].filter((o): o is { flag: string; path: string } => o.path !== undefined && o.path !== '-');
  checkOutputs(outputs, [calPath, fitPath, statePath, stringOption(values, 'model'), stringOption(values, 'head')].filter((p): p is string => p !== undefined).map((p) => p.replace(/^@/, '')));
  const progress = progressLine();
  const events = stderrEvents(progress);
  const sets = await SetContext.create(values, events);
  try {
    const train = fitPath ? await sets.open(fitPath, '--fit', 'train') : undefined;
    const cal = await sets.open(calPath, '--cal', 'id');
    const head = sets.head();
    sets.check(head);
    checkCalibrationSize(cal.n, tpr, `--cal ${calPath}`, Boolean(cal.mayShrink));
    const states = statePath ? parseStateFile(new TextDecoder().decode(readRegularFile(statePath, '--state', 'a readable JSON state file written by `napood fit`')), statePath) : undefined;
    if (!states?.has(spec.text)) checkSources([spec], [cal], train, head);
    const [method] = await fitOrLoad([spec], { train, head, states, events: stderrEvents(progress), channels: sets.channels() });
    const scores = await calibrationScores(method!, cal, head, { tpr, events: stderrEvents(progress, 'calibrate') });
    progress.done();
    sets.reportSummaries();
    const calibration = calibrate(scores, { tpr, bootstrap, seed, argument: `--cal ${calPath}` });
    const fittedOn = states?.has(spec.text) ? `; state from ${statePath}` : spec.def.fit ? `; fitted on ${fitPath}` : '';
    let text = `method: ${spec.text} (fixed by the user: nothing tuned)${fittedOn}\n` + calibrationText(calibration, spec.text);
    const files: { flag: string; path: string; data: Uint8Array }[] = [];
    if (out) {
      files.push({ flag: '--out', path: out, data: await encodeDetector(detectorData(sets, head, cal, [train], { method: method!, calibration, calPath })) });
      text += detectorLine(out, spec.text, sets.model?.info.file, 'fixed by the user');
    }
    const report = {
      napood: VERSION, kind: 'calibration', method: spec.text, params: { ...spec.params }, chosen_by: 'user',
      ...(sets.model ? { model: sets.model.info.file } : {}), ...(fitPath ? { fit: fitPath } : {}), ...(statePath ? { state: statePath } : {}),
      calibration: { ...calibrationSummary(calibration), set: calPath },
    };
    const json = JSON.stringify(report, null, 2) + '\n';
    if (jsonPath === '-') { process.stderr.write(text); process.stdout.write(json); } else process.stdout.write(text);
    if (jsonPath && jsonPath !== '-') files.push({ flag: '--json', path: jsonPath, data: Buffer.from(json) });
    writeOutputs(files);
    return 0;
  } finally {
    progress.done();
    await sets.close();
  }
}
