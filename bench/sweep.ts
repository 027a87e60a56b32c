/**
 * Benchmark: an 11-point w sweep of NAP-E as `napood report` computes it — S_Energy and S_NAP
 * scored once in the pass, then `geometricBlend` + FPR95/AUROC for each w — against ONE NAP-E
 * evaluation (`nap-e:w=0.6` scored, then its FPR95/AUROC), side by side on the same in-memory
 * feature batches (ID + one OOD set). Target: the sweep costs < 1.3× the single evaluation. For
 * context, the naive sweep (11 `nap-e:w=…` specs in the same pass) is timed too.
 *
 * No model runs here (batches come from RAM): the worst case for the ratio. With an ONNX model the
 * forward pass, identical in both, dominates and the ratio is closer still to 1. Median of 5 rounds,
 * the three contenders interleaved in each round. Also checks that the reused sweep's scores equal
 * the directly scored ones (bit for bit). Writes bench/results/sweep.md.
 *
 * Usage: npx tsc -p tsconfig.json && node dist/bench/sweep.js   (or npm run bench -- sweep)
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { evaluateBinary } from '../src/metrics/index.js';
import { geometricBlend } from '../src/methods/napx.js';
import { fitMethods, scoreSource, type BatchSource } from '../src/run/pipeline.js';
import { parseMethodSpec } from '../src/run/spec.js';
import type { Head } from '../src/types.js';
import { memorySet, randomHead } from '../test/report/memory-source.js';

const WS = Array.from({ length: 11 }, (_, i) => i / 10);
const ROUNDS = 5;

async function scores(specs: string[], src: BatchSource, head: Head): Promise<Float64Array[]> {
  const fitted = await fitMethods(specs.map((s) => parseMethodSpec(s, 'bench')), undefined, head);
  return (await scoreSource(fitted, src, head)).results.map((r) => r.scores);
}

async function single(id: BatchSource, ood: BatchSource, head: Head): Promise<number> {
  const [a] = await scores(['nap-e:w=0.6'], id, head);
  const [b] = await scores(['nap-e:w=0.6'], ood, head);
  return evaluateBinary(a, b).auroc;
}

async function reuse(id: BatchSource, ood: BatchSource, head: Head): Promise<Float64Array[]> {
  const [ei, ni] = await scores(['energy', 'nap'], id, head);
  const [eo, no] = await scores(['energy', 'nap'], ood, head);
  const out: Float64Array[] = [];
  for (const w of WS) {
    const a = geometricBlend(ei, ni, w).scores;
    const b = geometricBlend(eo, no, w).scores;
    evaluateBinary(a, b);
    out.push(a);
  }
  return out;
}

async function naive(id: BatchSource, ood: BatchSource, head: Head): Promise<Float64Array[]> {
  const specs = WS.map((w) => `nap-e:w=${w}`);
  const a = await scores(specs, id, head);
  const b = await scores(specs, ood, head);
  a.forEach((x, k) => evaluateBinary(x, b[k]));
  return a;
}

const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];

async function time(f: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  const shapes = [
    { name: 'ResNet-18 / CIFAR 512×4×4', c: 512, hw: 16, n: 4000 },
    { name: 'ResNet-50 / ImageNet 2048×7×7', c: 2048, hw: 49, n: 500 },
  ];
  const lines = [
    '# NAP-X w sweep (11 points) vs one NAP-X evaluation',
    '',
    `\`node dist/bench/sweep.js\` on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}. In-memory feature batches (no model forward: the worst case for the ratio), ID and one OOD set of n rows each, median of ${ROUNDS} interleaved rounds. "single" = score \`nap-e:w=0.6\` + FPR95/AUROC; "sweep (reuse)" = score energy and nap once + 11 × (geometricBlend + FPR95/AUROC), as \`napood report\` does; "naive" = 11 \`nap-e:w=…\` specs in one pass + 11 evaluations.`,
    '',
    '| map C×H×W | n per set | single ms | sweep (reuse) ms | **sweep ÷ single** | naive ms | naive ÷ single |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of shapes) {
    const head = randomHead(10, s.c, 1);
    const id = memorySet('id', s.n, s.c, s.hw, head, 2, 4).source;
    const ood = memorySet('ood', s.n, s.c, s.hw, head, 3, 1).source;
    // Same scores, bit for bit.
    const [r, d] = [await reuse(id, ood, head), await naive(id, ood, head)];
    r.forEach((x, k) => { if (!x.every((v, i) => Object.is(v, d[k][i]))) throw new Error(`w=${WS[k]}: reused sweep differs from nap-e:w=${WS[k]}`); });
    const t = { single: [] as number[], reuse: [] as number[], naive: [] as number[] };
    await single(id, ood, head);
    for (let round = 0; round < ROUNDS; round++) {
      t.single.push(await time(() => single(id, ood, head)));
      t.reuse.push(await time(() => reuse(id, ood, head)));
      t.naive.push(await time(() => naive(id, ood, head)));
    }
    const [a, b, c] = [median(t.single), median(t.reuse), median(t.naive)];
    const row = `| ${s.name} | ${s.n} | ${a.toFixed(1)} | ${b.toFixed(1)} | **${(b / a).toFixed(2)}** | ${c.toFixed(1)} | ${(c / a).toFixed(2)} |`;
    lines.push(row);
    process.stdout.write(`${s.name}: single ${a.toFixed(1)} ms, sweep ${b.toFixed(1)} ms → ratio ${(b / a).toFixed(2)} (target < 1.3); naive ${(c / a).toFixed(2)}×\n`);
  }
  lines.push('', 'Scores of the reused sweep equal `nap-e:w=…` scored directly, bit for bit (checked in the run).', '');
  const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}sweep.md`, lines.join('\n'));
  process.stdout.write(`wrote ${dir}sweep.md\n`);
}

await main();
