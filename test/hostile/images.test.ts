/**
 * Hostile image inputs (issue #10): lists naming files that are not images (their bytes never
 * appear in messages), huge sparse files (read header first, bounded), and entries that are not
 * regular files (FIFOs, dangling links, link loops: reported as skipped, never opened, never a
 * hang), named directly or as @lists (NapoodErrors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { NapoodError } from '../../src/errors.js';
import { describeBytes } from '../../src/images/items.js';
import { checkImageHead, maxImageFileBytes } from '../../src/images/prepare.js';
import { ImageSkip } from '../../src/images/decoder.js';
import { PRESETS } from '../../src/images/preprocess.js';
import { decodeImage, imageBatches, loadImages, type LoadOptions } from '../../src/node/images/loader.js';
import { expandImageInputs, type ImageItem } from '../../src/node/images/sources.js';
import { fixturesDir, repoRoot } from '../helpers.js';

const PNG = path.join(fixturesDir, 'images', 'tree', 'cat', 'c1.png');
const SECRET = 'root:$6$Zq8pS3cr3tHash$abcdefghijklmnop:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n';
const posix = process.platform !== 'win32';

function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'napood-hostile-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function run(items: readonly ImageItem[], opts: LoadOptions = {}): Promise<{ skipped: [string, string][]; loaded: string[]; summary: { loaded: number; skipped: number } }> {
  const skipped: [string, string][] = [];
  const loaded: string[] = [];
  const it = imageBatches(items, PRESETS.mnist!, { ...opts, onSkip: (p, why) => skipped.push([p, why]) });
  let r = await it.next();
  while (!r.done) { loaded.push(...r.value.paths); r = await it.next(); }
  return { skipped, loaded, summary: r.value };
}

async function rejectsNapood(p: Promise<unknown>, match: RegExp, not?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NapoodError, `not a NapoodError: ${e}`);
    assert.match(e.message, match);
    if (not) assert.doesNotMatch(e.message, not);
    return true;
  });
}

const LEAK = /root|\$6\$|S3cr3t|daemon|99999/;

test('a list naming a shadow-like file (absolute and ../../ relative): the skip says what the bytes look like, never quotes them', async () => {
  const t = tempDir();
  try {
    const etc = path.join(t.dir, 'etc');
    fs.mkdirSync(etc);
    fs.mkdirSync(path.join(t.dir, 'a', 'b'), { recursive: true });
    const shadow = path.join(etc, 'shadow');
    fs.writeFileSync(shadow, SECRET);
    const binary = path.join(etc, 'random.png');
    fs.writeFileSync(binary, Buffer.from([0x00, 0x13, 0x37, 0xc0, 0xff, 0xee, 0x01, 0x02, 0x03]));
    const gif = path.join(etc, 'anim.png');
    fs.writeFileSync(gif, Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(20)]));
    fs.copyFileSync(PNG, path.join(t.dir, 'a', 'b', 'ok.png'));
    const list = path.join(t.dir, 'a', 'b', 'list.txt');
    fs.writeFileSync(list, `${shadow}\n../../etc/shadow\t0\n../../etc/random.png\n../../etc/anim.png\nok.png\n`);
    const expanded = await expandImageInputs(['@' + list]);
    assert.equal(expanded.items.length, 5);
    const { skipped, loaded, summary } = await run(expanded.items);
    assert.deepEqual(loaded, [path.join(t.dir, 'a', 'b', 'ok.png')]);
    assert.equal(summary.skipped, 4);
    const bytes = Buffer.byteLength(SECRET);
    assert.deepEqual(skipped.map((s) => s[1]), [
      `not a PNG, JPEG or WebP image (text, ${bytes} bytes)`,
      `not a PNG, JPEG or WebP image (text, ${bytes} bytes)`,
      'not a PNG, JPEG or WebP image (unknown signature, 9 bytes)',
      'not a PNG, JPEG or WebP image (a GIF image, 26 bytes)',
    ]);
    for (const [, why] of skipped) assert.doesNotMatch(why, LEAK);
    // All of them bad: the NapoodError quotes the first reason, still without the bytes.
    await rejectsNapood(run(expanded.items.slice(0, 2)), /all 2 skipped \(first: .*shadow: not a PNG, JPEG or WebP image \(text, \d+ bytes\)\)$/, LEAK);
    // The single-file API says the same.
    await assert.rejects(decodeImage(shadow), (e: unknown) => e instanceof ImageSkip && e.message === `not a PNG, JPEG or WebP image (text, ${bytes} bytes)`);
  } finally {
    t.cleanup();
  }
});

test('describeBytes names formats and text without quoting; thousands are grouped', () => {
  assert.equal(describeBytes(new Uint8Array(0)), 'empty file');
  assert.equal(describeBytes(Buffer.from('%PDF-1.7 ...'), 1_234_567), 'a PDF document, 1,234,567 bytes');
  assert.equal(describeBytes(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])), 'an ELF executable, 8 bytes');
  assert.equal(describeBytes(Buffer.from('héllo wörld\n')), 'text, 14 bytes');
  assert.equal(describeBytes(Buffer.from([0x68, 0x69, 0x00])), 'unknown signature, 3 bytes');
  assert.equal(describeBytes(Buffer.from('x')), 'text, 1 byte');
});

test('an @list that is binary, or not UTF-8, is refused without quoting its lines', async () => {
  const t = tempDir();
  try {
    const bin = path.join(t.dir, 'bin.txt');
    fs.writeFileSync(bin, Buffer.concat([Buffer.from(SECRET), Buffer.from([0, 1, 2])]));
    await rejectsNapood(expandImageInputs(['@' + bin]), /^images: expected a readable list file after @, found ".*bin\.txt" \(binary data: unknown signature, \d+ bytes\)$/, LEAK);
    const latin1 = path.join(t.dir, 'latin1.txt');
    fs.writeFileSync(latin1, Buffer.from([0x72, 0x6f, 0xe9, 0x0a]));
    await rejectsNapood(expandImageInputs(['@' + latin1]), /\(not UTF-8 text: unknown signature, 4 bytes\)$/);
  } finally {
    t.cleanup();
  }
});

/** Write a valid small PNG, then extend the file sparsely to `size` bytes (holes cost no disk). */
function sparsePng(file: string, size: number, source = PNG): void {
  fs.copyFileSync(source, file);
  fs.truncateSync(file, size);
}

/** A PNG header claiming w × h RGB pixels, with a tiny IDAT: enough for the header check. */
function pngHeader(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (b: Buffer) => { let c = ~0; for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8); return ~c >>> 0; };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(16))]);
}

test('checkImageHead: limits on the file size, absolute and for the header\'s pixels', () => {
  const head = fs.readFileSync(PNG);
  const info = checkImageHead(head, head.length, { name: 'c1.png' });
  assert.ok(info && info.width > 0);
  const most = maxImageFileBytes(info!);
  assert.ok(most >= 16 * 1024 * 1024 && most < 17 * 1024 * 1024, String(most));
  assert.equal(checkImageHead(head, most)?.width, info!.width);
  assert.throws(() => checkImageHead(head, most + 1, { name: 'c1.png' }), (e: unknown) => e instanceof ImageSkip && /^a file of [\d,]+ bytes, more than a \d+×\d+ PNG can need \(at most [\d,]+ bytes\): padded, or not the image its header says$/.test(e.message));
  assert.throws(() => checkImageHead(head, 300 * 1024 * 1024), (e: unknown) => e instanceof ImageSkip && e.message === 'a file of 314,572,800 bytes, over the limit of 268,435,456 bytes for one image file');
  assert.throws(() => checkImageHead(head, 2000, { maxFileBytes: 1000 }), (e: unknown) => e instanceof ImageSkip && /over the limit of 1,000 bytes/.test(e.message));
  // A 6000 × 6000 RGB header (36 Mpx, under the pixel limit) may be large, within reason.
  const big = pngHeader(6000, 6000);
  assert.equal(checkImageHead(big, 150_000_000)?.width, 6000);
  assert.throws(() => checkImageHead(big, 260_000_000), ImageSkip);
});

test('huge sparse "PNG"s are skipped from their first bytes: reasons given, memory stays bounded', { timeout: 120_000 }, async (t) => {
  const dir = tempDir();
  try {
    const files: string[] = [];
    for (let i = 0; i < 3; i++) { files.push(path.join(dir.dir, `sparse${i}.png`)); sparsePng(files[i]!, 900 * 1024 * 1024); }
    const huge = path.join(dir.dir, 'huge.png');
    sparsePng(huge, 2 * 1024 * 1024 * 1024);
    const padded = path.join(dir.dir, 'padded.png');
    sparsePng(padded, 100 * 1024 * 1024);
    const bomb = path.join(dir.dir, 'bomb.png');
    fs.writeFileSync(bomb, pngHeader(100_000, 100_000));
    fs.truncateSync(bomb, 900 * 1024 * 1024);
    // The loading runs in a child process, whose peak RSS is measured.
    const loader = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'node', 'images', 'loader.js')).href;
    const presets = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'images', 'preprocess.js')).href;
    const items = [...files, huge, padded, bomb, PNG].map((p) => ({ path: p, label: -1 }));
    const script = `
      const { loadImages } = await import(${JSON.stringify(loader)});
      const { PRESETS } = await import(${JSON.stringify(presets)});
      const skipped = [];
      const r = await loadImages(${JSON.stringify(items)}, PRESETS.mnist, { onSkip: (p, why) => skipped.push([p, why]) });
      process.stdout.write(JSON.stringify({ n: r.n, skipped, summary: { loaded: r.summary.loaded, skipped: r.summary.skipped }, maxRssKiB: process.resourceUsage().maxRSS }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 100_000 });
    assert.equal(child.status, 0, child.stderr);
    const out = JSON.parse(child.stdout) as { n: number; skipped: [string, string][]; summary: { loaded: number; skipped: number }; maxRssKiB: number };
    assert.equal(out.n, 1);
    assert.deepEqual(out.summary, { loaded: 1, skipped: 6 });
    const reasons = Object.fromEntries(out.skipped.map(([p, why]) => [path.basename(p), why]));
    for (let i = 0; i < 3; i++) assert.equal(reasons[`sparse${i}.png`], 'a file of 943,718,400 bytes, over the limit of 268,435,456 bytes for one image file');
    assert.equal(reasons['huge.png'], 'a file of 2,147,483,648 bytes, over the limit of 268,435,456 bytes for one image file');
    assert.match(reasons['padded.png']!, /^a file of 104,857,600 bytes, more than a \d+×\d+ PNG can need \(at most [\d,]+ bytes\)/);
    assert.equal(reasons['bomb.png'], '100000×100000 = 10000000000 pixels, over the limit of 40000000 pixels (a decompression bomb? raise the pixel limit to accept it)');
    const peakMiB = out.maxRssKiB / 1024;
    t.diagnostic(`peak RSS ${peakMiB.toFixed(0)} MiB`);
    assert.ok(peakMiB < 400, `peak RSS ${peakMiB.toFixed(0)} MiB: the sparse files were read`);
  } finally {
    dir.cleanup();
  }
});

test('a FIFO, a dangling link and a link loop named .png inside a folder are skipped and counted, never opened', { skip: !posix, timeout: 30_000 }, async () => {
  const t = tempDir();
  try {
    const root = path.join(t.dir, 'set');
    fs.mkdirSync(root);
    fs.copyFileSync(PNG, path.join(root, 'a.png'));
    execFileSync('mkfifo', [path.join(root, 'fifo.png')]);
    fs.symlinkSync(path.join(root, 'missing.png'), path.join(root, 'dangling.png'));
    fs.symlinkSync(path.join(root, 'loop.png'), path.join(root, 'loop.png'));
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    fs.symlinkSync(path.join(root, 'gone'), path.join(root, 'gone-dir'));
    const list = await expandImageInputs([root]);
    assert.deepEqual(list.items.map((i) => path.basename(i.path)), ['a.png', 'dangling.png', 'fifo.png', 'loop.png']);
    // Non-image names are left out and counted, not dropped silently.
    assert.deepEqual(list.ignored.map((p) => path.basename(p)).sort(), ['gone-dir', 'pipe']);
    const { skipped, loaded, summary } = await run(list.items);
    assert.deepEqual(loaded, [path.join(root, 'a.png')]);
    assert.deepEqual(summary.skipped, 3);
    assert.deepEqual(skipped.map(([p, why]) => [path.basename(p), why]), [
      ['dangling.png', 'a dangling symbolic link (its target does not exist)'],
      ['fifo.png', 'not a regular file: a FIFO (named pipe)'],
      ['loop.png', 'a symbolic link loop (ELOOP)'],
    ]);
    // A class tree with such entries: the same.
    fs.mkdirSync(path.join(t.dir, 'tree', 'cat'), { recursive: true });
    fs.copyFileSync(PNG, path.join(t.dir, 'tree', 'cat', 'c.png'));
    execFileSync('mkfifo', [path.join(t.dir, 'tree', 'cat', 'f.png')]);
    const tree = await expandImageInputs([path.join(t.dir, 'tree')]);
    assert.deepEqual(tree.items.map((i) => [path.basename(i.path), i.label]), [['c.png', 0], ['f.png', 0]]);
    const r = await loadImages(tree.items, PRESETS.mnist!, { onSkip: () => {} });
    assert.equal(r.n, 1);
    assert.deepEqual(r.summary.skippedImages.map((s) => s.reason), ['not a regular file: a FIFO (named pipe)']);
  } finally {
    t.cleanup();
  }
});

test('a FIFO or a folder named as an image, as an @list, or on a list line: NapoodErrors, never a hang', { skip: !posix, timeout: 30_000 }, async () => {
  const t = tempDir();
  try {
    const fifo = path.join(t.dir, 'x.png');
    execFileSync('mkfifo', [fifo]);
    const fifoList = path.join(t.dir, 'list.txt');
    execFileSync('mkfifo', [fifoList]);
    const folder = path.join(t.dir, 'folder');
    fs.mkdirSync(folder);
    await rejectsNapood(expandImageInputs([fifo], { argument: '--images' }), /^--images: expected an image file, folder or @list\.txt, found ".*x\.png" \(a FIFO \(named pipe\)\)$/);
    await rejectsNapood(expandImageInputs(['@' + fifoList]), /^images: expected a readable list file after @, found ".*list\.txt" \(not a regular file: a FIFO \(named pipe\)\)$/);
    await rejectsNapood(expandImageInputs(['@' + folder]), /^images: expected a readable list file after @, found ".*folder" \(not a regular file: a (?:folder|directory)\)$/);
    const lines = path.join(t.dir, 'lines.txt');
    fs.writeFileSync(lines, 'x.png\n');
    await rejectsNapood(expandImageInputs(['@' + lines]), /^images @.*lines\.txt line 1: expected an image file, found "x\.png" \(a FIFO \(named pipe\)\)$/);
    fs.writeFileSync(lines, 'folder\n');
    await rejectsNapood(expandImageInputs(['@' + lines]), /line 1: expected an image file, found "folder" \(a (?:folder|directory)\)$/);
    fs.symlinkSync(path.join(t.dir, 'l.png'), path.join(t.dir, 'l.png'));
    fs.writeFileSync(lines, 'l.png\n');
    await rejectsNapood(expandImageInputs(['@' + lines]), /line 1: expected an existing image file, found ".*l\.png" \(a symbolic link loop \(ELOOP\)\)$/);
    fs.symlinkSync(path.join(t.dir, 'nothing'), path.join(t.dir, 'd.png'));
    await rejectsNapood(expandImageInputs([path.join(t.dir, 'd.png')]), /found ".*d\.png" \(a dangling symbolic link \(its target does not exist\)\)$/);
    // The loader, given a FIFO path directly, skips it without opening it.
    await assert.rejects(decodeImage(fifo), (e: unknown) => e instanceof ImageSkip && e.message === 'not a regular file: a FIFO (named pipe)');
  } finally {
    t.cleanup();
  }
});

test('headers read from the first 64 KiB equal those of the whole file; long metadata first is read further', async () => {
  const { default: sharp } = await import('sharp');
  const { readImageHeader } = await import('../../src/images/header.js');
  const { sniffFormat } = await import('../../src/images/items.js');
  const t = tempDir();
  try {
    const noise = Buffer.alloc(300 * 200 * 3);
    for (let i = 0, s = 12345; i < noise.length; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; noise[i] = s & 0xff; }
    const raw = { raw: { width: 300, height: 200, channels: 3 as const } };
    const files: Record<string, Buffer> = {
      'n.png': await sharp(noise, raw).png().toBuffer(),
      'n.jpg': await sharp(noise, raw).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer(),
      'lossy.webp': await sharp(noise, raw).webp({ quality: 100 }).toBuffer(),
      'lossless.webp': await sharp(noise, raw).webp({ lossless: true }).toBuffer(),
    };
    // A JPEG with 128 KiB of comment segments before its frame header.
    const jpg = files['n.jpg']!;
    const com = Buffer.alloc(65535 + 2, 0x20);
    com[0] = 0xff; com[1] = 0xfe; com.writeUInt16BE(65535, 2);
    files['comments.jpg'] = Buffer.concat([jpg.subarray(0, 2), com, com, jpg.subarray(2)]);
    for (const [name, bytes] of Object.entries(files)) {
      assert.ok(bytes.length > 64 * 1024, `${name}: ${bytes.length} bytes`);
      const file = path.join(t.dir, name);
      fs.writeFileSync(file, bytes);
      const whole = readImageHeader(bytes, sniffFormat(bytes)!);
      assert.ok(whole, name);
      const fromHead = checkImageHead(bytes.subarray(0, 64 * 1024), bytes.length);
      if (name === 'comments.jpg') assert.equal(fromHead, undefined);
      else assert.deepEqual({ ...fromHead, format: undefined }, { ...whole, format: undefined }, name);
      const d = await decodeImage(file);
      assert.deepEqual([d.width, d.height, d.channels], [300, 200, 3], name);
    }
  } finally {
    t.cleanup();
  }
});
