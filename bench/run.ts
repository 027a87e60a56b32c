/**
 * `npm run bench [-- NAME …]`: runs the benchmarks (never part of the tests; SPEC §7: ratios against
 * a baseline run in the same script on the same machine). Without names it runs the ones that take
 * minutes (metrics, nap, e2e); the memory benchmarks write multi-GB files and run only when named.
 * Each benchmark is its own script and can also be run directly (see its header).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Bench {
  readonly name: string;
  readonly what: string;
  readonly args: readonly string[];
  readonly byDefault: boolean;
}

const BENCHES: readonly Bench[] = [
  { name: 'metrics', what: 'FPR95/AUROC/AUPR on 10^7 scores vs scikit-learn', args: [], byDefault: true },
  { name: 'nap', what: 'NAP kernel vs PyTorch, numpy and C loops', args: [], byDefault: true },
  { name: 'nap_stream', what: 'read a dump + NAP: rows into ordinary arrays vs into the kernel staging buffer (writes 0.8 GB)', args: [], byDefault: true },
  { name: 'resample', what: 'Pillow-exact resize: current vs previous implementation, Pillow for context', args: [], byDefault: true },
  { name: 'sweep', what: '11-point NAP-X w sweep reusing S_X and S_NAP vs one NAP-X evaluation (napood report)', args: [], byDefault: true },
  { name: 'e2e', what: 'images/s end to end (decode → forward → NAP, energy) vs PyTorch eager', args: [], byDefault: true },
  { name: 'check', what: 'napood check vs plain score and the forward pass; tune and calibrate wall time', args: [], byDefault: true },
  { name: 'corrupt', what: 'ImageNet-C / CIFAR-C corruptions, images/s at 28×28 and 224×224 vs the Python reference', args: [], byDefault: false },
  { name: 'eval_rss', what: 'peak RSS of napood eval over a 4 GB dump (writes 4 GB to the temp dir)', args: [], byDefault: false },
  { name: 'io_stream', what: 'peak RSS of streaming a 2 GB dump (writes 2 GB to the temp dir)', args: [], byDefault: false },
];

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('npm run bench [-- NAME …]\n\n' + BENCHES.map((b) => `  ${b.name.padEnd(10)} ${b.what}${b.byDefault ? '' : ' (only when named)'}`).join('\n') + '\n');
    return 0;
  }
  const unknown = argv.filter((a) => !BENCHES.some((b) => b.name === a));
  if (unknown.length) {
    process.stderr.write(`napood bench: unknown benchmark ${unknown.join(', ')}; one of ${BENCHES.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const chosen = argv.length ? BENCHES.filter((b) => argv.includes(b.name)) : BENCHES.filter((b) => b.byDefault);
  let failed = 0;
  for (const b of chosen) {
    const script = fileURLToPath(new URL(`./${b.name}.js`, import.meta.url));
    if (!existsSync(script)) {
      process.stderr.write(`napood bench: ${script} is missing (run npm run build)\n`);
      failed++;
      continue;
    }
    process.stdout.write(`\n=== ${b.name}: ${b.what}\n`);
    const r = spawnSync(process.execPath, [script, ...b.args], { stdio: 'inherit' });
    if (r.status !== 0) failed++;
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
