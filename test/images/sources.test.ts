/** sources.ts: files, folders, class folders, list files, order and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NapoodError } from '../../src/errors.js';
import { compareCodePoints, expandImageInputs, sampleItems, sniffFormat } from '../../src/node/images/sources.js';
import { IMAGES, TREE, img, manifest, tempDir } from './helpers.js';

const rel = (p: string): string => path.relative(IMAGES, p).split(path.sep).join('/');

async function rejectsNapood(p: Promise<unknown>, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NapoodError, `expected NapoodError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('a class tree gives torchvision ImageFolder classes, labels and order', async () => {
  const list = await expandImageInputs([TREE]);
  const folder = (manifest as unknown as { imagefolder: { classes: string[]; samples: [string, number][] } }).imagefolder;
  assert.deepEqual(list.classes, folder.classes);
  assert.deepEqual(list.items.map((i) => [rel(i.path), i.label]), folder.samples);
  assert.deepEqual(list.classes, ['cat', 'dog']);
  assert.deepEqual(list.ignored.map(rel), ['tree/cat/notes.txt']);
  assert.deepEqual(list.unknownClasses, []);
});

test('a folder with images directly in it is plain: recursive, every label −1', async () => {
  const list = await expandImageInputs([path.join(TREE, 'cat')]);
  assert.deepEqual(list.items.map((i) => [rel(i.path), i.label]), [['tree/cat/c1.png', -1], ['tree/cat/c2.jpg', -1], ['tree/cat/more/c3.webp', -1]]);
  assert.deepEqual(list.classes, []);
});

test("labels: 'none' gives −1 everywhere; given classes map folder names (unknown → −1, reported)", async () => {
  const none = await expandImageInputs([TREE], { labels: 'none' });
  assert.ok(none.items.every((i) => i.label === -1));
  assert.equal(none.items.length, 9);
  assert.deepEqual(none.classes, []);
  const mapped = await expandImageInputs([TREE], { classes: ['dog', 'cat', 'bird'] });
  assert.deepEqual(mapped.items.map((i) => i.label), [1, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(mapped.classes, ['dog', 'cat', 'bird']);
  const partial = await expandImageInputs([TREE], { classes: ['dog'] });
  assert.deepEqual(partial.items.map((i) => i.label), [-1, -1, -1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(partial.unknownClasses, ['cat']);
});

test('list files: paths relative to the list, labels by index or class name, comments and blanks skipped', async () => {
  const alone = await expandImageInputs(['@' + img('list.txt')]);
  assert.deepEqual(alone.items.map((i) => [rel(i.path), i.label]), [
    ['tree/cat/c2.jpg', 1], ['tree/dog/d1.png', -1], ['tree/dog/d2.png', -1], ['tree/cat/more/c3.webp', -1],
  ]);
  assert.deepEqual(alone.unknownClasses, ['cat'], 'a class name with no classes known is unknown');
  // After a class tree the names are known: "cat" → 0.
  const both = await expandImageInputs([TREE, '@' + img('list.txt')]);
  assert.deepEqual(both.items.slice(9).map((i) => i.label), [1, 0, -1, -1]);
  assert.deepEqual(both.unknownClasses, []);
});

test('list files: missing entries and bad labels name the list and the line', async () => {
  const t = tempDir();
  try {
    fs.copyFileSync(img('tree', 'cat', 'c1.png'), path.join(t.dir, 'a.png'));
    const list = path.join(t.dir, 'l.txt');
    fs.writeFileSync(list, 'a.png\t0\n\nmissing.png\n');
    await rejectsNapood(expandImageInputs(['@' + list]), `images @${list} line 3: expected an existing image file, found "${path.join(t.dir, 'missing.png')}" (no such file or folder)`);
    fs.writeFileSync(list, 'a.png\t-3\n');
    await rejectsNapood(expandImageInputs(['@' + list]), `images @${list} line 1: expected a label ≥ −1 (−1 = unknown) or a class name, found "-3"`);
    fs.writeFileSync(list, 'a.png\t5\n');
    await rejectsNapood(expandImageInputs(['@' + list], { classes: ['x', 'y'] }), `images @${list} line 1: expected a class index below 2 (the number of classes), found "5"`);
    fs.writeFileSync(list, '# nothing\n\n');
    await rejectsNapood(expandImageInputs(['@' + list]), `images @${list}: expected at least one image path (one per line), found none`);
    await rejectsNapood(expandImageInputs(['@' + path.join(t.dir, 'nope.txt')], { argument: '--images' }),
      `--images: expected a readable list file after @, found "${path.join(t.dir, 'nope.txt')}" (no such file)`);
  } finally {
    t.cleanup();
  }
});

test('missing paths, empty folders, nothing given and non-image files are NapoodErrors naming them', async () => {
  const t = tempDir();
  try {
    const missing = path.join(t.dir, 'nope');
    await rejectsNapood(expandImageInputs([missing], { argument: '--images' }), `--images: expected an existing image file, folder or @list.txt, found "${missing}" (no such file or folder)`);
    fs.mkdirSync(path.join(t.dir, 'empty', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(t.dir, 'empty', 'sub', 'readme.md'), 'x');
    await rejectsNapood(expandImageInputs([path.join(t.dir, 'empty')]), `images: expected a folder with .png/.jpg/.jpeg/.webp images, found "${path.join(t.dir, 'empty')}" with none`);
    await rejectsNapood(expandImageInputs([]), 'images: expected image files, folders or @list.txt, found nothing');
    const txt = path.join(t.dir, 'notes.txt');
    fs.writeFileSync(txt, 'hello');
    await rejectsNapood(expandImageInputs([txt]), `images: expected an image file (.png, .jpg, .jpeg, .webp), a folder or @list.txt, found "${txt}"`);
    // No extension but PNG bytes: accepted (magic bytes).
    const noext = path.join(t.dir, 'picture');
    fs.copyFileSync(img('tree', 'cat', 'c1.png'), noext);
    assert.deepEqual((await expandImageInputs([noext])).items, [{ path: noext, label: -1 }]);
    // A .png that is not one is accepted here and skipped when decoded (loader tests).
    const fake = img('tree', 'dog', 'x_text.png');
    assert.deepEqual((await expandImageInputs([fake])).items, [{ path: fake, label: -1 }]);
  } finally {
    t.cleanup();
  }
});

test('order: code-point sort of names (locale-free) and sorted(os.walk) folder order', async () => {
  const t = tempDir();
  try {
    const png = fs.readFileSync(img('tree', 'cat', 'c1.png'));
    for (const f of ['b.png', 'B.png', '_.png', 'é.png', 'Z.JPG', 'a10.png', 'a9.png', 'x/z/1.png', 'x/0.png', 'x-y/2.png', 'x/.hidden.png']) {
      fs.mkdirSync(path.dirname(path.join(t.dir, 'r', f)), { recursive: true });
      fs.writeFileSync(path.join(t.dir, 'r', f), png);
    }
    const list = await expandImageInputs([path.join(t.dir, 'r')]);
    assert.deepEqual(list.items.map((i) => path.relative(path.join(t.dir, 'r'), i.path).split(path.sep).join('/')),
      ['B.png', 'Z.JPG', '_.png', 'a10.png', 'a9.png', 'b.png', 'é.png', 'x/.hidden.png', 'x/0.png', 'x-y/2.png', 'x/z/1.png']);
    assert.ok(compareCodePoints('\u{1F600}', '\uFF01') > 0, 'astral characters sort after BMP ones, as in Python');
  } finally {
    t.cleanup();
  }
});

test('symbolic links are followed, a link loop is walked once', async () => {
  const t = tempDir();
  try {
    fs.mkdirSync(path.join(t.dir, 'r', 'a'), { recursive: true });
    fs.copyFileSync(img('tree', 'cat', 'c1.png'), path.join(t.dir, 'r', 'a', 'p.png'));
    fs.symlinkSync(path.join(t.dir, 'r'), path.join(t.dir, 'r', 'a', 'loop'));
    const list = await expandImageInputs([path.join(t.dir, 'r', 'a')]);
    assert.equal(list.items.length, 1);
  } finally {
    t.cleanup();
  }
});

test('sniffFormat reads PNG, JPEG and WebP magic bytes', () => {
  assert.equal(sniffFormat(fs.readFileSync(img('tree', 'cat', 'c1.png'))), 'png');
  assert.equal(sniffFormat(fs.readFileSync(img('tree', 'cat', 'c2.jpg'))), 'jpeg');
  assert.equal(sniffFormat(fs.readFileSync(img('tree', 'cat', 'more', 'c3.webp'))), 'webp');
  assert.equal(sniffFormat(fs.readFileSync(img('tree', 'dog', 'x_text.png'))), undefined);
  assert.equal(sniffFormat(new Uint8Array(0)), undefined);
});

test('sampleItems: n distinct items in input order, the same for a seed, uniform over seeds', () => {
  const items = Array.from({ length: 10 }, (_, i) => `img${i}`);
  const a = sampleItems(items, 3, 0);
  assert.equal(a.length, 3);
  assert.equal(new Set(a).size, 3);
  assert.deepEqual(a, [...a].sort((x, y) => items.indexOf(x) - items.indexOf(y)), 'input order kept');
  assert.deepEqual(sampleItems(items, 3, 0), a, 'same seed, same sample');
  assert.notDeepEqual(sampleItems(items, 3, 1), a, 'another seed, another sample');
  assert.deepEqual(sampleItems(items, 10, 5), items);
  assert.deepEqual(sampleItems(items, 50, 5), items);
  // each item is drawn with probability 3/10: over 4000 seeds, 1200 ± 5σ (σ = √(4000·0.3·0.7) ≈ 29)
  const counts = new Array<number>(10).fill(0);
  for (let seed = 0; seed < 4000; seed++) for (const it of sampleItems(items, 3, seed)) counts[items.indexOf(it)]++;
  for (const c of counts) assert.ok(Math.abs(c - 1200) < 5 * 29, `count ${c}`);
  assert.throws(() => sampleItems(items, 0, 0), NapoodError);
});
