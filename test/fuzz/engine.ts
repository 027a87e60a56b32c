/**
 * The fuzz loop: input i of a run is a seed fixture with 1–4 mutations, all drawn from
 * inputSeed(seed, i), so `makeInput` rebuilds any input from its index. Each input runs through
 * its target (targets.ts); an exception the target does not accept, an input slower than
 * SLOW_MS, or memory that grows past the bounds is a finding. The loop runs in a worker thread
 * (worker.ts) so that the test can stop a hang and name the input.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GENERIC, Rng, editLength, inputSeed } from './mutate.js';
import type { Target } from './targets.js';

/** An input slower than this is a finding (the parsers are linear in the input; inputs are ≤ 64 KB). */
export const SLOW_MS = 2000;
/** Growth of ArrayBuffer memory / RSS over the run's first inputs that is a finding. */
export const MAX_ARRAYBUFFER_GROWTH = 256 << 20;
export const MAX_RSS_GROWTH = 512 << 20;

export interface Finding {
  readonly target: string;
  readonly index: number;
  readonly seed: string;
  readonly mutations: string;
  readonly problem: string;
}

export interface FuzzStats {
  readonly target: string;
  readonly inputs: number;
  readonly outcomes: Record<string, number>;
  readonly findings: Finding[];
  readonly ms: number;
  readonly slowestMs: number;
  readonly arrayBufferGrowth: number;
  readonly rssGrowth: number;
}

/** Input `index` of a run: the seed it came from, the mutated bytes, what was done, and the rng that goes on to the run. */
export function makeInput(target: Target, seed: number, index: number): { seed: string; bytes: Uint8Array; mutations: string; rng: Rng } {
  const rng = new Rng(inputSeed(seed, index));
  const s = rng.pick(target.seeds);
  let b = s.bytes;
  const log: string[] = [];
  for (let k = 1 + rng.int(rng.chance(0.7) ? 1 : 4); k > 0; k--) {
    const r = rng.int(100);
    let what: string;
    const fields = target.lengthFields(b);
    if (r < 35) [b, what] = target.structured(b, rng);
    else if (r < 50 && fields.length) [b, what] = editLength(b, rng.pick(fields), rng);
    else [b, what] = rng.pick(GENERIC)(b, rng);
    log.push(what);
  }
  return { seed: s.name, bytes: b, mutations: log.join(' '), rng };
}

function firstLine(e: unknown): string {
  const err = e as Error;
  const text = err instanceof Error ? `${err.name}: ${err.message}` : `non-error thrown: ${String(e)}`;
  return text.split('\n')[0]!.slice(0, 300);
}

/**
 * Run inputs [0, count) of `target` seeded `seed`. `progress(i)` is called before input i (the
 * worker publishes it for the watchdog).
 */
export function fuzzTarget(target: Target, seed: number, count: number, progress: (i: number) => void = () => {}, scratchDir?: string): FuzzStats {
  // A scratch dir of its own, or the caller's (which the caller removes, also after a hang).
  const scratch = scratchDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `napood-fuzz-${target.name}-`));
  const outcomes: Record<string, number> = {};
  const findings: Finding[] = [];
  const t0 = performance.now();
  let slowest = 0;
  let base: NodeJS.MemoryUsage | undefined;
  let abGrowth = 0;
  let rssGrowth = 0;
  try {
    for (let i = 0; i < count; i++) {
      progress(i);
      const input = makeInput(target, seed, i);
      const start = performance.now();
      let outcome: string;
      try {
        outcome = target.run(input.bytes, input.rng, scratch);
      } catch (e) {
        outcome = 'finding';
        findings.push({ target: target.name, index: i, seed: input.seed, mutations: input.mutations, problem: firstLine(e) });
      }
      const ms = performance.now() - start;
      slowest = Math.max(slowest, ms);
      if (ms > SLOW_MS) findings.push({ target: target.name, index: i, seed: input.seed, mutations: input.mutations, problem: `slow: ${ms.toFixed(0)} ms` });
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      // Memory: the baseline after a warm-up, then growth over it after every input.
      if (i === 50 || (base === undefined && i === count - 1)) base = process.memoryUsage();
      if (base !== undefined && i % 4 === 0) {
        const m = process.memoryUsage();
        abGrowth = Math.max(abGrowth, m.arrayBuffers - base.arrayBuffers);
        rssGrowth = Math.max(rssGrowth, m.rss - base.rss);
        if (abGrowth > MAX_ARRAYBUFFER_GROWTH || rssGrowth > MAX_RSS_GROWTH) {
          findings.push({ target: target.name, index: i, seed: input.seed, mutations: input.mutations,
            problem: `memory grew by ${(abGrowth / 2 ** 20).toFixed(0)} MiB of ArrayBuffers, ${(rssGrowth / 2 ** 20).toFixed(0)} MiB of RSS` });
          break;
        }
      }
    }
  } finally {
    if (scratchDir === undefined) fs.rmSync(scratch, { recursive: true, force: true });
  }
  return { target: target.name, inputs: count, outcomes, findings, ms: performance.now() - t0, slowestMs: slowest, arrayBufferGrowth: abGrowth, rssGrowth };
}
