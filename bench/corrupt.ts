/**
 * Images per second of each corruption (src/images/corrupt) against the Python reference in the
 * same run (SPEC §7: ratios side by side, one thread each).
 *
 * Cases: 28×28 grey (CIFAR-C parameters: the MNIST / Fashion-MNIST size) and 224×224 RGB
 * (ImageNet-C parameters), severity 3, a synthetic smooth image with noise (seeded).
 * napood: corruptImage (random draws included), a fresh stream per call.
 * Python: bench/corrupt_reference.py — the reference functions of tools/golden_corruptions.py
 * (numpy / scipy / skimage / OpenCV / ImageMagick through Wand / Pillow; the same code as the
 * golden fixtures) with numpy's generator, OpenCV and BLAS on one thread; skipped when
 * /usr/bin/python3 lacks those modules.
 * Timing: a warm-up, then the best of `rounds` loops of ≥ 0.2 s; images/s = 1000 / ms.
 *
 * Run: npm run build && node dist/bench/corrupt.js [--rounds 3] [--no-python] [--no-write]
 *      [--only gaussian_noise,fog]
 * Writes bench/results/corrupt.md unless --no-write.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORRUPTION_NAMES, corruptImage, type CorruptionName, type PixelImage } from '../src/images/corrupt/index.js';
import { writeNpy } from '../src/node/io/npy.js';

interface Case {
  readonly name: string;
  readonly label: string;
  readonly image: PixelImage;
  readonly params: 'cifar' | 'imagenet';
}

const SEVERITY = 3;

function synthetic(w: number, h: number, c: 1 | 3, seed: number): PixelImage {
  const data = new Uint8Array(w * h * c);
  let s = seed >>> 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const v = 128 + 80 * Math.sin((x * 6.3) / w + k) * Math.cos((y * 4.1) / h) + 30 * Math.sin((x + y) / 3) + ((s >>> 24) % 25) - 12;
        data[(y * w + x) * c + k] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { width: w, height: h, channels: c, data };
}

/** ms per call: a loop of at least `minMs`. */
function timeIt(fn: () => unknown, minMs: number): number {
  let n = 0;
  const t0 = performance.now();
  let dt = 0;
  do {
    fn();
    n++;
    dt = performance.now() - t0;
  } while (dt < minMs);
  return dt / n;
}

function python(cases: readonly Case[], names: readonly CorruptionName[]): Record<string, Record<string, number>> | null {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const dir = mkdtempSync(join(os.tmpdir(), 'napood-corrupt-bench-'));
  try {
    for (const c of cases) writeNpy(join(dir, `${c.name}.npy`), c.image.data, [c.image.height, c.image.width, c.image.channels]);
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map((c) => ({ name: c.name, file: `${c.name}.npy`, params: c.params }))));
    const r = spawnSync('/usr/bin/python3', [join(root, 'bench', 'corrupt_reference.py'), dir, String(SEVERITY), ...names], {
      encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    });
    if (r.status !== 0) {
      process.stderr.write(`python baseline skipped: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}\n`);
      return null;
    }
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(argv: string[]): void {
  const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const rounds = Number(opt('--rounds') ?? 3);
  const only = opt('--only')?.split(',') as CorruptionName[] | undefined;
  const names = only ?? [...CORRUPTION_NAMES];
  const cases: Case[] = [
    { name: 'g28', label: '28×28 grey (CIFAR-C)', image: synthetic(28, 28, 1, 7), params: 'cifar' },
    { name: 'rgb224', label: '224×224 RGB (ImageNet-C)', image: synthetic(224, 224, 3, 11), params: 'imagenet' },
  ];
  const ts: Record<string, Record<string, number>> = {};
  for (const c of cases) {
    ts[c.name] = {};
    for (const n of names) {
      let k = 0;
      const fn = (): unknown => corruptImage(c.image, n, SEVERITY, { seed: 1, index: k++, params: c.params });
      timeIt(fn, 100);
      let best = Infinity;
      for (let r = 0; r < rounds; r++) best = Math.min(best, timeIt(fn, 200));
      ts[c.name]![n] = best;
      process.stderr.write(`${c.label} ${n}: ${best.toFixed(3)} ms\n`);
    }
  }
  const py = argv.includes('--no-python') ? null : python(cases, names);
  const ips = (ms: number | undefined): string => (ms == null ? '–' : (1000 / ms >= 100 ? (1000 / ms).toFixed(0) : (1000 / ms).toFixed(1)));
  const ratio = (a: number | undefined, b: number | undefined): string => (a == null || b == null ? '–' : `${(b / a).toFixed(2)}×`);
  const head = cases.map((c) => ` ${c.label}: napood img/s |${py ? ' Python img/s | napood / Python |' : ''}`).join('');
  const sep = cases.map(() => (py ? '---|---|---|' : '---|')).join('');
  const rows = names.map((n) => `| ${n} |${cases.map((c) => ` ${ips(ts[c.name]![n])} |${py ? ` ${ips(py[c.name]?.[n])} | ${ratio(ts[c.name]![n], py[c.name]?.[n])} |` : ''}`).join('')}`);
  const md = [
    '# Corruptions: images per second, napood vs the Python reference',
    '',
    `Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, 1 thread each, severity ${SEVERITY}, best of ${rounds} loops of ≥ 0.2 s (bench/corrupt.ts). ` +
      'napood: corruptImage (src/images/corrupt), random draws included. Python: bench/corrupt_reference.py, the hendrycks/robustness functions as in tools/golden_corruptions.py ' +
      '(numpy, scipy, skimage, OpenCV, ImageMagick 6 via Wand, Pillow; numpy random draws included; the golden tests show both give the same pixels on the same random fields). ' +
      'A shared 2-core VM with other jobs running: rates drift by up to 2–3× between runs (the ratios of one run are side by side, but not stable either).',
    '',
    `| corruption |${head}`,
    `|---|${sep}`,
    ...rows,
    '',
  ].join('\n');
  process.stdout.write(md);
  if (!argv.includes('--no-write')) {
    const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results', 'corrupt.md');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, md);
  }
}

main(process.argv.slice(2));
