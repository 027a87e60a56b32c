/**
 * `napood tune`: flags → the sets (src/node), app/tune.ts's search on ID-val vs pseudo-OOD,
 * then with --cal the calibration (app/calibrate.ts) and with --out the detector file
 * (app/detector-file.ts), written together with --json, whole or not at all. A method fixed by
 * the user needs no tuning and no --val: `napood calibrate` (calibrate-command.ts).
 */
import { NapoodError, describe } from '../errors.js';
import { calibrate } from '../app/calibrate.js';
import { calibrationScores, checkCalibrationSize } from '../app/detector-build.js';
import { encodeDetector } from '../app/detector-file.js';
import type { ModelSource } from '../app/model-source.js';
import { modelAccess, type ModelAccessHandle } from '../app/model-access.js';
import { pseudoOodInfo, pseudoOodSource, type PseudoOodOptions } from '../app/pseudo-ood.js';
import { DEFAULT_TUNE_CANDIDATES, tuneMethods, usableCandidates } from '../app/tune.js';
import { tuneText } from '../app/tune-text.js';
import { getCorruption, type CorruptionName } from '../images/corrupt/index.js';
import { openImageSources } from '../node/detector.js';
import { nodeImageDecoder } from '../node/images/loader.js';
import { checkOutputs, samePath, writeOutputs } from '../node/outputs.js';
import { parseMethodList } from '../run/spec.js';
import type { BatchSource, FittedMethod } from '../run/pipeline.js';
import { intOption, listOption, numberOption, parseCommand, stringOption, type Values } from './args.js';
import { progressLine } from './progress.js';
import { SetContext, stderrEvents } from './sets.js';
import { tuneSpec } from './specs.js';
import { calibrationText, detectorData, detectorLine } from './calibrate-command.js';

function numberList(values: Values, name: string): number[] | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((x) => !Number.isFinite(x))) throw new NapoodError(`--${name}`, 'a comma-separated list of numbers', describe(v));
  return nums;
}

function namedSets(values: Values, flag: string): { name: string; path: string }[] {
  const seen = new Set<string>();
  return listOption(values, flag).map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new NapoodError(`--${flag}`, 'NAME=SET (e.g. textures=dtd/)', describe(item));
    const name = item.slice(0, eq);
    if (seen.has(name)) throw new NapoodError(`--${flag}`, 'distinct set names', describe(name));
    seen.add(name);
    return { name, path: item.slice(eq + 1) };
  });
}

function pseudoOptions(values: Values): Pick<PseudoOodOptions, 'corruptions' | 'severities' | 'assignment' | 'seed'> {
  const names = stringOption(values, 'corruptions')?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names ?? []) getCorruption(n, '--corruptions');
  const severities = numberList(values, 'severities');
  for (const s of severities ?? []) if (!Number.isInteger(s) || s < 1 || s > 5) throw new NapoodError('--severities', 'integers from 1 to 5', describe(String(s)));
  const assignment = stringOption(values, 'assignment');
  if (assignment !== undefined && assignment !== 'random' && assignment !== 'all') throw new NapoodError('--assignment', 'random or all', describe(assignment));
  return {
    ...(names ? { corruptions: names as CorruptionName[] } : {}),
    ...(severities ? { severities } : {}),
    ...(assignment ? { assignment } : {}),
    seed: intOption(values, 'corruption-seed', 0, 0, 0xffffffff),
  };
}

export async function runTune(argv: string[]): Promise<number> {
  const values = parseCommand(tuneSpec, argv);
  const valPath = stringOption(values, 'val');
  if (valPath === undefined) throw new NapoodError('--val', 'held-out ID validation images to tune on (for a method whose parameters you fix yourself, tune nothing: napood calibrate --methods nap-e:w=0.5 --cal SET --out DETECTOR)', 'none');
  const pseudoPath = stringOption(values, 'pseudo-ood');
  const fitPath = stringOption(values, 'fit');
  const calPath = stringOption(values, 'cal');
  const out = stringOption(values, 'out');
  const jsonPath = stringOption(values, 'json');
  if (values.method !== undefined && values.methods !== undefined) throw new NapoodError('--method', 'either --method or --methods (they are the same option)', 'both');
  const methodText = stringOption(values, 'methods') ?? stringOption(values, 'method');
  const candidates = parseMethodList(methodText ?? DEFAULT_TUNE_CANDIDATES, '--methods');
  const tpr = numberOption(values, 'tpr', 0.95, 0, 1, true);
  const bootstrap = intOption(values, 'bootstrap', 1000, 0, 100_000);
  const seed = intOption(values, 'seed', 0, 0, 0xffffffff);
  const criterion = stringOption(values, 'criterion') ?? 'auroc';
  if (criterion !== 'auroc' && criterion !== 'fpr95') throw new NapoodError('--criterion', 'auroc or fpr95', describe(criterion));
  const search = { gridStep: numberOption(values, 'grid-step', 0.05, 0, 0.5, false), tolerance: numberOption(values, 'tolerance', 1e-3, 0, 1) };
  if (!(search.gridStep > 0)) throw new NapoodError('--grid-step', 'a step in (0, 0.5]', describe(String(search.gridStep)));
  const napP = numberList(values, 'nap-p');
  const pseudo = pseudoOptions(values);
  const oracleList = namedSets(values, 'oracle-ood');
  if (out && !calPath) throw new NapoodError('--out', '--cal SET with it (the detector\'s threshold is calibrated on held-out ID data)', '--out without --cal');
  if (calPath) {
    for (const [flag, p] of [['--val', valPath], ['--fit', fitPath]] as const) {
      if (p !== undefined && samePath(calPath, p)) throw new NapoodError('--cal', `held-out ID data, not the ${flag} set (the calibration must not reuse data used for fitting or tuning)`, describe(calPath));
    }
  }
  if (jsonPath === '-' && out === '-') throw new NapoodError('--out', 'a file path', '-');
  const outputs = [{ flag: '--out', path: out }, { flag: '--json', path: jsonPath }].filter((o): o is { flag: string; path: string } => o.path !== undefined && o.path !== '-');
  checkOutputs(outputs, [valPath, pseudoPath, fitPath, calPath, stringOption(values, 'model'), stringOption(values, 'head'), ...oracleList.map((o) => o.path)].filter((p): p is string => p !== undefined).map((p) => p.replace(/^@/, '')));
  const progress = progressLine();
  const events = stderrEvents(progress);
  const sets = await SetContext.create(values, events);
  let images: { close: () => void } | undefined;
  let access: ModelAccessHandle | undefined;
  try {
    const train = fitPath ? await sets.open(fitPath, '--fit', 'train') : undefined;
    const model = sets.model;
    if (!model && !pseudoPath) throw new NapoodError('--pseudo-ood', 'a pseudo-OOD dump when the sets are feature dumps (corrupting needs images and --model)', 'none');
    const val = await sets.open(valPath, '--val', 'id');
    let pseudoSource: BatchSource;
    let info: Record<string, unknown>;
    if (pseudoPath) {
      pseudoSource = await sets.open(pseudoPath, '--pseudo-ood', 'ood');
      info = { path: pseudoPath };
    } else {
      const opened = await openImageSources([valPath], '--val');
      images = opened;
      // The model's gradients for ODIN candidates (input perturbation), as the other sets have them.
      access = modelAccess(model!, sets.preprocess!.std, intOption(values, 'threads', 0, 0, 1024) || undefined);
      pseudoSource = pseudoOodSource(model!, opened.sources, sets.preprocess!, {
        ...pseudo, decoder: nodeImageDecoder(), batchSize: intOption(values, 'batch-size', 32, 1, 65536), access,
        channelMismatch: stringOption(values, 'channel-mismatch') as PseudoOodOptions['channelMismatch'], events, label: `pseudo-OOD (corrupted --val ${valPath})`,
      });
      info = pseudoOodInfo(opened.sources.length, pseudo);
    }
    const oracle = [];
    for (const o of oracleList) oracle.push({ name: o.name, path: o.path, source: await sets.open(o.path, `--oracle-ood ${o.name}`, 'ood') });
    const cal = calPath ? await sets.open(calPath, '--cal', 'id') : undefined;
    const head = sets.head();
    sets.check(head);
    if (cal) checkCalibrationSize(cal.n, tpr, `--cal ${calPath}`, Boolean(cal.mayShrink));
    let specs = candidates;
    if (methodText === undefined) {
      const u = usableCandidates(candidates, [val, pseudoSource, ...oracle.map((o) => o.source)], train, head);
      specs = u.usable;
      for (const l of u.leftOut) events.note!(`tune: left out ${l.method} (${l.reason})`);
    }
    const result = await tuneMethods(specs, {
      val, pseudoOod: pseudoSource, train, head, oracle, valPath, pseudoOodInfo: info, model: model?.info.file,
    }, { criterion, ...search, napP, events: stderrEvents(progress, 'tune') });
    progress.done();
    sets.reportSummaries();
    const note = (pseudoSource as ModelSource).summary?.();
    if (note) events.note!(note);
    let text = tuneText(result.report);
    const files: { flag: string; path: string; data: Uint8Array }[] = [];
    if (cal) {
      const chosen: FittedMethod = result.chosen;
      const scores = await calibrationScores(chosen, cal, head, { tpr, valNames: result.valNames, events: stderrEvents(progress, 'calibrate') });
      progress.done();
      const calibration = calibrate(scores, { tpr, bootstrap, seed, argument: `--cal ${calPath}` });
      text += calibrationText(calibration, chosen.spec.text);
      if (out) {
        files.push({ flag: '--out', path: out, data: await encodeDetector(detectorData(sets, head, cal, [val, train], { method: chosen, calibration, calPath: calPath!, tune: result.report })) });
        text += detectorLine(out, chosen.spec.text, model?.info.file, 'chosen by tune');
      }
    }
    const json = JSON.stringify(result.report, null, 2) + '\n';
    if (jsonPath === '-') { process.stderr.write(text); process.stdout.write(json); } else process.stdout.write(text);
    if (jsonPath && jsonPath !== '-') files.push({ flag: '--json', path: jsonPath, data: Buffer.from(json) });
    writeOutputs(files);
    return 0;
  } finally {
    images?.close();
    progress.done();
    await access?.release();
    await sets.close();
  }
}
