/** Shared helpers of the io tests: fixture paths, numpy's expected values, temp dirs, error checks. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { NapoodError } from '../../src/errors.js';

/** test/fixtures/io, found by walking up from the compiled test file (works from any build folder). */
function findFixtures(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const cand = path.join(dir, 'test', 'fixtures', 'io');
    if (fs.existsSync(path.join(cand, 'expected.json'))) return cand;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('test/fixtures/io not found; run tools/make_io_fixtures.py');
    dir = up;
  }
}

export const FIXTURES = findFixtures();
export const fixture = (...parts: string[]): string => path.join(FIXTURES, ...parts);

export interface ExpectedTensor { shape: number[]; dtype?: string; f32bits: number[] }
export interface Expected {
  npy: Record<string, ExpectedTensor>;
  st: Record<string, { metadata: Record<string, string>; tensors: Record<string, ExpectedTensor> }>;
  dump: {
    n: number; c: number; h: number; w: number; k: number;
    featureMap_f32bits: number[]; featureMap16_f32bits: number[];
    pooled_mean_f64: number[]; pooled16_mean_f64: number[]; pooled_f32bits: number[];
    logits_f32bits: number[]; labels: number[]; weight_f32bits: number[]; bias_f32bits: number[];
  };
  f2_all_sha256: string;
  f2_all_nan_count: number;
  truncated: { need: number; have: number };
}
export const EXPECTED: Expected = JSON.parse(fs.readFileSync(fixture('expected.json'), 'utf8'));

/** float32 bit patterns of an array (for exact comparison incl. −0, ±Inf). */
export function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'napood-io-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Assert that fn throws a NapoodError whose message contains every string / matches every regex. */
export function throwsNapood(fn: () => unknown, ...patterns: (string | RegExp)[]): NapoodError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof NapoodError, `expected a NapoodError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  const msg = caught.message;
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(msg.includes(p), `message ${JSON.stringify(msg)} lacks ${JSON.stringify(p)}`);
    else assert.match(msg, p);
  }
  assert.match(msg, /: expected .+, found .+/);
  return caught;
}
