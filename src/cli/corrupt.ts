/**
 * `napood corrupt`: corrupted copies of a set of images (ImageNet-C / CIFAR-C, src/images/corrupt),
 * as PNG files under OUT/<corruption>/<severity>/, with OUT/corruptions.csv (path, source image,
 * corruption, severity) and OUT/list.txt (an @list of the copies). For looking at what the
 * pseudo-OOD of `napood tune` is made of. OUT must not exist: it is written in a temporary
 * folder beside it and renamed into place when complete.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { NapoodError, describe } from '../errors.js';
import { CORRUPTION_NAMES, iterateCorruptedImages, type CorruptionName } from '../images/corrupt/index.js';
import { ImageSkip } from '../images/decoder.js';
import { removeOnExit } from '../node/io/cleanup.js';
import { parseCommand, listOption, stringOption, intOption } from './args.js';
import { progressLine } from './progress.js';
import { stderrEvents } from './sets.js';
import { corruptSpec } from './specs.js';

function listOf(text: string | undefined, flag: string, allowed: readonly string[]): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((s) => !allowed.includes(s));
  if (bad !== undefined || items.length === 0) throw new NapoodError(flag, `a comma-separated list among ${allowed.join(', ')}`, describe(bad ?? text));
  return items;
}

export async function runCorrupt(argv: string[]): Promise<number> {
  const values = parseCommand(corruptSpec, argv);
  const inputs = listOption(values, 'images');
  if (inputs.length === 0) throw new NapoodError('--images', 'image files, folders or @list.txt', 'none');
  const out = resolve(stringOption(values, 'out', true));
  if (existsSync(out)) throw new NapoodError('--out', 'a folder that does not exist yet (it is created whole)', describe(out));
  if (!existsSync(dirname(out))) throw new NapoodError('--out', 'a path in an existing directory', describe(out));
  const corruptions = listOf(stringOption(values, 'corruptions'), '--corruptions', CORRUPTION_NAMES) as CorruptionName[] | undefined;
  const severities = listOf(stringOption(values, 'severities'), '--severities', ['1', '2', '3', '4', '5'])?.map(Number);
  const seed = intOption(values, 'seed', 0, 0, 0xffffffff);
  const params = stringOption(values, 'params') ?? 'auto';
  if (!['auto', 'cifar', 'imagenet'].includes(params)) throw new NapoodError('--params', 'auto, cifar or imagenet', describe(params));
  const assignment = stringOption(values, 'assignment') ?? 'all';
  if (assignment !== 'all' && assignment !== 'random') throw new NapoodError('--assignment', 'all or random', describe(assignment));

  const progress = progressLine();
  const events = stderrEvents(progress, 'corrupt');
  const { expandImageInputs } = await import('../node/images/sources.js');
  const { nodeImageDecoder, readImageFile } = await import('../node/images/loader.js');
  const { default: sharp } = await import('sharp');
  const list = await expandImageInputs(inputs, { argument: '--images', labels: 'none' });
  const decoder = nodeImageDecoder();
  const images: { width: number; height: number; data: Uint8Array; channels: 1 | 3 }[] = [];
  const names: string[] = [];
  let skipped = 0;
  for (const item of list.items) {
    try {
      const bytes = await readImageFile(item.path);
      const d = await decoder.decode(bytes, { maxPixels: 40_000_000 });
      let data = d.data;
      let channels: 1 | 3 = d.channels === 1 ? 1 : 3;
      if (d.channels === 4) {
        data = new Uint8Array(d.width * d.height * 3);
        for (let p = 0; p < d.width * d.height; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = d.data[p * 4 + c]!;
        channels = 3;
      }
      images.push({ width: d.width, height: d.height, data, channels });
      names.push(item.path);
    } catch (e) {
      if (!(e instanceof ImageSkip)) throw e;
      skipped++;
      events.note!(`--images: skipped ${item.path}: ${e.message}`);
    }
  }
  if (images.length === 0) throw new NapoodError('--images', 'at least one image that decodes', `none of ${list.items.length}`);

  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  const forget = removeOnExit(tmp);
  mkdirSync(tmp);
  try {
    const rows = ['path,source,corruption,severity'];
    const paths: string[] = [];
    const used = new Map<string, number>();
    for (const c of iterateCorruptedImages(images, { corruptions, severities, seed, params: params as 'auto', assignment, events })) {
      const dir = join(c.corruption, String(c.severity));
      mkdirSync(join(tmp, dir), { recursive: true });
      const stem = basename(names[c.source]!, extname(names[c.source]!));
      const key = join(dir, stem);
      const k = used.get(key) ?? 0;
      used.set(key, k + 1);
      const file = join(dir, `${stem}${k ? `_${k}` : ''}.png`);
      await sharp(Buffer.from(c.image.data), { raw: { width: c.image.width, height: c.image.height, channels: c.image.channels } }).png().toFile(join(tmp, file));
      const csv = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      rows.push([csv(file), csv(relative(process.cwd(), names[c.source]!)), c.corruption, String(c.severity)].join(','));
      paths.push(file);
    }
    writeFileSync(join(tmp, 'corruptions.csv'), rows.join('\n') + '\n');
    writeFileSync(join(tmp, 'list.txt'), paths.join('\n') + '\n');
    progress.done();
    renameSync(tmp, out);
    forget();
    events.note!(`--out: ${paths.length} corrupted copies of ${images.length} images in ${out}${skipped ? ` (${skipped} images skipped)` : ''}`);
    return 0;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    forget();
    throw e;
  } finally {
    progress.done();
  }
}
