/**
 * Detector files are untrusted input: seeded mutations of a valid file — byte flips and
 * truncations (caught by the checksum or the layout checks), and structure-aware edits of the
 * detector JSON and tensor table with the checksum recomputed (as someone editing the file on
 * purpose would) — must fail with a NapoodError or give a detector that checks inputs; never
 * another exception, a hang or a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDetector, sha256Hex } from '../../src/app/detector-file.js';
import { Detector } from '../../src/app/detector.js';
import { NapoodError } from '../../src/errors.js';
import { Xoshiro128 } from '../../src/math/random.js';
import { openModel } from '../../src/node/index.js';
import { modelPath, syntheticImages } from './helpers.js';

function split(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

async function build(header: Record<string, unknown>, detector: string, data: Uint8Array): Promise<Uint8Array> {
  const meta = header.__metadata__ as Record<string, string>;
  const json = new TextEncoder().encode(JSON.stringify({ ...header, __metadata__: { ...meta, detector, sha256: await sha256Hex(new TextEncoder().encode(detector), data) } }));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const HOSTILE: unknown[] = [null, true, -1, 0, 1e308, NaN, 'x', '', [], {}, [[[[[]]]]], { $tensor: 'calibration.scores' }, { $tensor: 'nope' }, { $number: 'NaN' }, { $number: 7 }, '__proto__', [1, 2, 3], { a: { b: { c: 1 } } }];

function paths(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix);
  if (v && typeof v === 'object' && prefix.length < 6) for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function setAt(root: Record<string, unknown>, path: string[], value: unknown): void {
  let o: Record<string, unknown> = root;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (path.length) o[path[path.length - 1]!] = value;
}

test('mutated detector files: a NapoodError or a working detector, nothing else', async () => {
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    await od.fit('nap-d:w=0.5', syntheticImages(25, 2));
    const det = await od.calibrate(syntheticImages(20, 3));
    const bytes = await det.bytes();
    const probe = syntheticImages(3, 9);
    const rng = new Xoshiro128(12);
    const outcomes = { refused: 0, accepted: 0 };
    const attempt = async (b: Uint8Array, what: string) => {
      try {
        const data = await decodeDetector(b, 'd');
        const d = new Detector(data, { classifier: od.classifier });
        await d.check(probe);
        await d.release();
        outcomes.accepted++;
      } catch (e) {
        if (!(e instanceof NapoodError)) assert.fail(`${what}: ${String((e as Error)?.stack ?? e)}`);
        outcomes.refused++;
      }
    };
    for (let i = 0; i < 300; i++) {
      const b = bytes.slice();
      const flips = 1 + rng.nextInt(3);
      for (let f = 0; f < flips; f++) b[rng.nextInt(b.length)] ^= 1 << rng.nextInt(8);
      await attempt(rng.nextInt(4) === 0 ? b.subarray(0, rng.nextInt(b.length)) : b, `flip ${i}`);
    }
    const { header, data } = split(bytes);
    const body = JSON.parse((header.__metadata__ as Record<string, string>).detector);
    const all = paths(body).filter((p) => p.length > 0);
    for (let i = 0; i < 400; i++) {
      const copy = JSON.parse(JSON.stringify(body));
      const path = all[rng.nextInt(all.length)]!;
      setAt(copy, path, HOSTILE[rng.nextInt(HOSTILE.length)]);
      const h = JSON.parse(JSON.stringify(header));
      if (path[0] === 'tensors') h[path[1]!] = copy.tensors[path[1]!];   // keep the table in step, so the body's checks run
      await attempt(await build(h, JSON.stringify(copy), data), `edit ${path.join('.')}`);
    }
    assert.ok(outcomes.refused > 450 && outcomes.accepted > 0, `refused ${outcomes.refused}, accepted ${outcomes.accepted}`);
  } finally {
    await od.release();
  }
});
