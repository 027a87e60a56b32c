/** Shared by the detector tests: synthetic images, the fixture model, temporary folders. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Xoshiro128 } from '../../src/math/random.js';
import { fixturesDir } from '../helpers.js';
import { corruptImage, corruptionPlan } from '../../src/images/corrupt/index.js';
import { prepareDecodedImage } from '../../src/images/prepare.js';
import { PRESETS } from '../../src/images/preprocess.js';

export const modelPath = join(fixturesDir, 'pipeline', 'model.onnx');
export const treeDir = join(fixturesDir, 'images', 'tree');

export interface Pixels { width: number; height: number; data: Uint8Array; channels: 3 }

/**
 * Smooth seeded 32×32 RGB images (a few coloured blobs on a gradient): "ID" for the fixture
 * model. Each image differs by its seed.
 */
export function syntheticImages(count: number, seed: number, size = 32): { name: string; image: Pixels }[] {
  const out: { name: string; image: Pixels }[] = [];
  for (let k = 0; k < count; k++) {
    const rng = new Xoshiro128((seed * 1000 + k) >>> 0);
    const data = new Uint8Array(size * size * 3);
    const base = [rng.nextDouble(), rng.nextDouble(), rng.nextDouble()].map((v) => 60 + 120 * v);
    const blobs = Array.from({ length: 3 }, () => ({ x: rng.nextDouble() * size, y: rng.nextDouble() * size, r: 3 + rng.nextDouble() * 8, c: [rng.nextDouble(), rng.nextDouble(), rng.nextDouble()].map((v) => 255 * v) }));
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let ch = 0; ch < 3; ch++) {
          let v = base[ch]! + (40 * (x - size / 2)) / size;
          for (const b of blobs) v += (b.c[ch]! - v) * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r));
          data[(y * size + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
    out.push({ name: `syn-${seed}-${k}`, image: { width: size, height: size, data, channels: 3 } });
  }
  return out;
}

export function tempDir(prefix = 'napood-det-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write synthetic images as PNG files into `dir` (created), returning their paths. */
export async function writePngs(dir: string, images: readonly { name: string; image: Pixels }[]): Promise<string[]> {
  const { mkdirSync } = await import('node:fs');
  const sharp = (await import('sharp')).default;
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (const { name, image } of images) {
    const p = join(dir, `${name}.png`);
    await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(p);
    paths.push(p);
  }
  return paths;
}

/**
 * The pseudo-OOD images of `napood tune` as its docs say they are made, by hand: the prepared
 * pixels (cifar preset) of each image, then one seeded (corruption, severity 3–5) each.
 */
export function pseudoByHand(images: readonly { name: string; image: Pixels }[], seed = 0): { name: string; image: Pixels }[] {
  const pp = PRESETS.cifar!;
  return corruptionPlan(images.length, { assignment: 'random', severities: [3, 4, 5], seed }).map((job) => {
    const prepared = prepareDecodedImage(images[job.source]!.image, pp);
    const image = corruptImage({ width: 32, height: 32, data: prepared.pixels, channels: 3 }, job.corruption, job.severity, { seed, index: job.source });
    return { name: `${images[job.source]!.name}-${job.corruption}-${job.severity}`, image: { width: 32, height: 32, data: image.data, channels: 3 as const } };
  });
}
