/**
 * `napood check --detector D [--model M] INPUT…`: one row per input — path, score, p-value,
 * verdict (OOD iff p ≤ α: the detector's α = 1 − its TPR, or --alpha), predicted class and its
 * confidence (max softmax). An aligned table by default, JSON lines with --json, CSV with --csv.
 * Exit code 3 with --fail-on-ood when any input is OOD (2 for bad input, as every command).
 */
import { NapoodError, describe } from '../errors.js';
import type { CheckRow } from '../app/detector.js';
import { checkLevel } from '../app/calibrate.js';
import { loadDetector } from '../node/detector.js';
import { looksLikeDump } from '../node/io/dump.js';
import { intOption, parseCommandWithInputs, stringOption } from './args.js';
import { progressLine } from './progress.js';
import { stderrEvents } from './sets.js';
import { checkSpec } from './specs.js';
import { numberOption } from './calibrate-command.js';

/** Exit code of `napood check --fail-on-ood` when an input is OOD. */
export const EXIT_OOD = 3;

/** Consecutive image paths run as one set (one batching); a .npy tensor or a dump is a set of its own. */
function groups(inputs: readonly string[]): string[][] {
  const out: string[][] = [];
  let images: string[] = [];
  for (const p of inputs) {
    if (p.toLowerCase().endsWith('.npy') || looksLikeDump(p)) {
      if (images.length) out.push(images);
      images = [];
      out.push([p]);
    } else images.push(p);
  }
  if (images.length) out.push(images);
  return out;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const verdict = (r: CheckRow) => (r.ood ? 'OOD' : 'ID');
const className = (r: CheckRow) => r.className ?? String(r.predicted);

function jsonLine(r: CheckRow): string {
  return JSON.stringify({ path: r.name, score: r.score, p_value: r.pValue, verdict: verdict(r), class: r.predicted, ...(r.className !== undefined ? { class_name: r.className } : {}), confidence: r.confidence }) + '\n';
}

function tableText(rows: readonly CheckRow[]): string {
  const cells = [['input', 'score', 'p-value', 'verdict', 'class', 'confidence'], ...rows.map((r) => [r.name, r.score.toPrecision(6), r.pValue.toFixed(4), verdict(r), className(r), r.confidence.toFixed(4)])];
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((c) => c[j]!.length)));
  const right = new Set([1, 2, 5]);
  return cells.map((c) => c.map((x, j) => (right.has(j) ? x.padStart(widths[j]!) : x.padEnd(widths[j]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export async function runCheck(argv: string[]): Promise<number> {
  const { values, inputs } = parseCommandWithInputs(checkSpec, argv);
  const detectorPath = stringOption(values, 'detector', true);
  if (inputs.length === 0) throw new NapoodError('INPUT', 'at least one input: image files, folders, @list.txt, a .npy tensor or a dump (napood check --detector D INPUT…)', 'none');
  if (values.json && values.csv) throw new NapoodError('--json', 'either --json or --csv', 'both');
  const alpha = values.alpha === undefined ? undefined : numberOption(values, 'alpha', 0.05, 0, 1, true);
  const mismatch = stringOption(values, 'channel-mismatch');
  if (mismatch !== undefined && !['convert', 'skip', 'error'].includes(mismatch)) throw new NapoodError('--channel-mismatch', 'convert, skip or error', describe(mismatch));
  const threads = intOption(values, 'threads', 0, 0, 1024);
  const progress = progressLine();
  const events = stderrEvents(progress);
  const detector = await loadDetector(detectorPath, {
    model: stringOption(values, 'model'), modelFlag: '--model', batchSize: intOption(values, 'batch-size', 32, 1, 65536),
    threads: threads > 0 ? threads : undefined, channelMismatch: mismatch as 'convert' | 'skip' | 'error' | undefined, events: stderrEvents(progress, 'check'),
  });
  if (alpha !== undefined) {
    try { checkLevel(alpha, detector.data.calibration.n, '--alpha'); } catch (e) { await detector.release(); throw e; }
  }
  const rows: CheckRow[] = [];
  let used = alpha ?? detector.alpha;
  let threshold = detector.threshold;
  try {
    if (values.csv) process.stdout.write('path,score,p_value,verdict,class,confidence\n');
    for (const g of groups(inputs)) {
      const r = await detector.check(g, { alpha });
      progress.done();
      used = r.alpha;
      threshold = r.threshold;
      rows.push(...r.rows);
      if (values.json) process.stdout.write(r.rows.map(jsonLine).join(''));
      else if (values.csv) process.stdout.write(r.rows.map((x) => [csvField(x.name), x.score, x.pValue, verdict(x), csvField(className(x)), x.confidence].join(',') + '\n').join(''));
    }
  } finally {
    progress.done();
    await detector.release();
  }
  if (!values.json && !values.csv) process.stdout.write(tableText(rows));
  const ood = rows.filter((r) => r.ood).length;
  process.stderr.write(`napood check: ${ood} of ${rows.length} inputs OOD (${detector.method}: OOD iff p-value ≤ ${used}, i.e. score < ${threshold})\n`);
  return values['fail-on-ood'] && ood > 0 ? EXIT_OOD : 0;
}
