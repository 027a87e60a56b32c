/**
 * `napood report CONFIG --out DIR`: parses the flags, calls makeReport (src/node/report-run.ts),
 * prints the first backbone's Tables 1 / 2, each backbone's claims, the claims across backbones
 * (claim × backbone: ✓ / ✗ and Δ) and where the report is. Progress (with rate and ETA) on a TTY only.
 */
import { NapoodError } from '../errors.js';
import { makeReport } from '../node/report-run.js';
import { textTable } from '../app/report.js';
import { claimsSummaryText } from '../app/report/summary.js';
import { intOption, parseCommand, stringOption } from './args.js';
import { progressLine } from './progress.js';
import { stderrEvents } from './sets.js';
import { reportSpec } from './specs.js';

const VALUED = new Set(Object.entries(reportSpec.options).filter(([, o]) => o.type === 'string').map(([n]) => `--${n}`));

export async function runReport(argv: string[]): Promise<number> {
  const config = argv.find((a, i) => !a.startsWith('--') && !VALUED.has(argv[i - 1] ?? ''));
  if (!config) throw new NapoodError('CONFIG', 'the path of a report configuration (napood report CONFIG.json --out DIR; README "Reports")', 'nothing');
  const values = parseCommand(reportSpec, argv.filter((a) => a !== config));
  const out = stringOption(values, 'out', true);
  const threads = intOption(values, 'threads', 0, 0, 1024);
  const bootstrap = values.bootstrap === undefined ? undefined : intOption(values, 'bootstrap', 1000, 0, 100_000);
  const seed = values.seed === undefined ? undefined : intOption(values, 'seed', 0, 0, 0xffffffff);
  const progress = progressLine();
  try {
    const summary = await makeReport(config, out, { events: stderrEvents(progress), threads: threads > 0 ? threads : undefined, bootstrap, seed });
    progress.done();
    const lines: string[] = [];
    // The paper's Tables 1 / 2 layout of the first backbone (every table is in DIR/tables/).
    const first = summary.models[0];
    if (first) lines.push(`${first.name}: Tables 1 / 2 (FPR95 / AUROC in %, per OOD set, per group, average)`, textTable(first.tables.main));
    for (const m of summary.models) {
      lines.push(`${m.name}:`);
      for (const c of m.claims) lines.push(`  [${c.verdict}] ${c.claim}`, `      ${c.measured}`);
    }
    lines.push(claimsSummaryText(summary.claimsSummary).trimEnd());
    lines.push(`report written to ${out}/ (index.html, report.json, ${summary.files.filter((f) => f.startsWith('tables/')).length} table files, ${summary.files.filter((f) => f.endsWith('.png')).length} PNG figures)`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  } finally {
    progress.done();
  }
}
