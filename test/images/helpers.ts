/** Shared helpers of the image tests: fixture paths, reference tensors, temp dirs. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fixturesDir } from '../helpers.js';
import { readNpy } from '../../src/node/io/npy.js';

export const IMAGES = path.join(fixturesDir, 'images');
export const TREE = path.join(IMAGES, 'tree');
export const img = (...parts: string[]): string => path.join(IMAGES, ...parts);

export interface ConfigRef {
  readonly settings: Record<string, unknown>;
  readonly shape: number[];
  readonly file: string;
}

export interface Manifest {
  readonly images: string[];
  readonly configs: Record<string, ConfigRef>;
}

export const manifest: Manifest = JSON.parse(fs.readFileSync(img('refs', 'manifest.json'), 'utf8'));

export function ref(file: string): { shape: number[]; data: Float32Array } {
  return readNpy(img(file));
}

/** A fresh temp dir, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napood-images-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Largest |a − b| and the count of differing entries. */
export function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; count: number; mean: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  let count = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) count++;
    if (d > max) max = d;
    sum += d;
  }
  return { max, count, mean: a.length ? sum / a.length : 0 };
}
