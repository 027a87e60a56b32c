/**
 * `napood check --detector D [--model M] INPUT…`: one row per input — path, score, p-value,
 * verdict (OOD iff p ≤ α: the detector's α = 1 − its TPR, or --alpha), predicted class and its
 * confidence (max softmax). Formats: an aligned table when stdout is a terminal, tab-separated
 * values with a header when it is not (pipes, files: stable columns, no padding, full
 * precision), JSON lines with --json, CSV with --csv; --table / --tsv choose one of the first two
 * whatever stdout is. Rows go out as each group of inputs is done (the table: at the end, as it
 * aligns them). The summary line goes to stderr. Exit code 3 with --fail-on-ood when any input
 * is OOD (2 for bad input, as every command). Whether stdout is a terminal comes in with the
 * output (`CheckOutput.isTTY`), so tests run both paths.
 */
import { NapoodError, describe } from '../errors.js';
import type { CheckRow } from '../app/detector.js';
import { checkLevel } from '../app/calibrate.js';
import { loadDetector } from '../node/detector.js';
import { looksLikeDump } from '../node/io/dump.js';
import { intOption, numberOption, parseCommandWithInputs, stringOption } from './args.js';
import { progressLine } from './progress.js';
import { stderrEvents } from './sets.js';
import { checkSpec } from './specs.js';


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

/** A TSV field: backslash, tab, newline and carriage return written as \\, \t, \n, \r (TSV has no quoting). */
export function tsvField(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}

/** Where check writes: rows to `write` (stdout), the summary to `note` (stderr); `isTTY` picks the default format. */
export interface CheckOutput {
  readonly isTTY: boolean;
  write(text: string): void;
  note(text: string): void;
}

/** process.stdout / process.stderr (a reader that closes stdout, `| head`, is handled once for every command in bin.ts). */
function processOutput(): CheckOutput {
  return { isTTY: Boolean(process.stdout.isTTY), write: (t) => { process.stdout.write(t); }, note: (t) => { process.stderr.write(t); } };
}

type Format = 'table' | 'tsv' | 'json' | 'csv';

const COLUMNS = ['path', 'score', 'p_value', 'verdict', 'class', 'confidence'];

const verdict = (r: CheckRow) => (r.ood ? 'OOD' : 'ID');
const className = (r: CheckRow) => r.className ?? String(r.predicted);

function jsonLine(r: CheckRow): string {
  return JSON.stringify({ path: r.name, score: r.score, p_value: r.pValue, verdict: verdict(r), class: r.predicted, ...(r.className !== undefined ? { class_name: r.className } : {}), confidence: r.confidence }) + '\n';
}

const fields = (r: CheckRow): string[] => [r.name, String(r.score), String(r.pValue), verdict(r), className(r), String(r.confidence)];

/** The header and the text of rows in a streamed format. */
const FORMATS: Record<Exclude<Format, 'table'>, { header?: string; rows: (rows: readonly CheckRow[]) => string }> = {
  tsv: { header: COLUMNS.join('\t') + '\n', rows: (rows) => rows.map((r) => fields(r).map(tsvField).join('\t') + '\n').join('') },
  csv: { header: COLUMNS.join(',') + '\n', rows: (rows) => rows.map((r) => fields(r).map(csvField).join(',') + '\n').join('') },
  json: { rows: (rows) => rows.map(jsonLine).join('') },
};

export function tableText(rows: readonly CheckRow[]): string {
  const cells = [['input', 'score', 'p-value', 'verdict', 'class', 'confidence'], ...rows.map((r) => [r.name, r.score.toPrecision(6), r.pValue.toFixed(4), verdict(r), className(r), r.confidence.toFixed(4)])];
  const widths = cells[0]!.map((_, j) => Math.max(...cells.map((c) => c[j]!.length)));
  const right = new Set([1, 2, 5]);
  return cells.map((c) => c.map((x, j) => (right.has(j) ? x.padStart(widths[j]!) : x.padEnd(widths[j]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function formatOf(values: Record<string, unknown>, isTTY: boolean): Format {
  const chosen = (['json', 'csv', 'tsv', 'table'] as const).filter((f) => values[f]);
  if (chosen.length > 1) throw new NapoodError(`--${chosen[0]}`, `one output format (--json, --csv, --tsv or --table)`, chosen.map((f) => `--${f}`).join(' and '));
  return chosen[0] ?? (isTTY ? 'table' : 'tsv');
}

export async function runCheck(argv: string[], out: CheckOutput = processOutput()): Promise<number> {
  const { values, inputs } = parseCommandWithInputs(checkSpec, argv);
  const detectorPath = stringOption(values, 'detector', true);
  if (inputs.length === 0) throw new NapoodError('INPUT', 'at least one input: image files, folders, @list.txt, a .npy tensor or a dump (napood check --detector D INPUT…)', 'none');
  const format = formatOf(values, out.isTTY);
  const alpha = values.alpha === undefined ? undefined : numberOption(values, 'alpha', 0.05, 0, 1, true);
  const mismatch = stringOption(values, 'channel-mismatch');
  if (mismatch !== undefined && !['convert', 'skip', 'error'].includes(mismatch)) throw new NapoodError('--channel-mismatch', 'convert, skip or error', describe(mismatch));
  const threads = intOption(values, 'threads', 0, 0, 1024);
  const progress = progressLine();
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
    const streamed = format === 'table' ? undefined : FORMATS[format];
    let header = streamed?.header;
    for (const g of groups(inputs)) {
      const r = await detector.check(g, { alpha });
      progress.done();
      used = r.alpha;
      threshold = r.threshold;
      rows.push(...r.rows);
      if (streamed) {
        out.write((header ?? '') + streamed.rows(r.rows));
        header = undefined;
      }
    }
  } finally {
    progress.done();
    await detector.release();
  }
  if (format === 'table') out.write(tableText(rows));
  const ood = rows.filter((r) => r.ood).length;
  out.note(`napood check: ${ood} of ${rows.length} inputs OOD (${detector.method}: OOD iff p-value ≤ ${used}, i.e. score < ${threshold})\n`);
  return values['fail-on-ood'] && ood > 0 ? EXIT_OOD : 0;
}
