/**
 * `napood report` end to end on the fixture config (test/fixtures/report/config.json: the
 * pipeline fixture model, seeded uint8 pixel sets and an image folder): the folder's files,
 * report.json, the figure sizes, the CLI, refusals; then index.html in headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core): it renders, the claims across backbones first,
 * every figure is there, no console error, and no request but the file itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeReport } from '../../src/node/report-run.js';
import { NapoodError } from '../../src/errors.js';
import { fixturesDir, repoRoot } from '../helpers.js';

const config = join(fixturesDir, 'report', 'config.json');
const scratch = mkdtempSync(join(tmpdir(), 'napood-report-'));
const out = join(scratch, 'rep');
const progress: string[] = [];
const summary = await makeReport(config, out, { events: { progress: (_d, _t, what) => { if (!progress.includes(what)) progress.push(what); } }, bootstrap: 100 });
const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('the report folder: index.html, report.json, tables (md + csv) and figures (png + svg + vega-lite)', () => {
  const names = readdirSync(out).sort();
  assert.deepEqual(names, ['figures', 'index.html', 'report.json', 'tables']);
  const figs = readdirSync(join(out, 'figures'));
  const ids = json.models[0].figures.map((f: { id: string }) => f.id);
  // Figures 1, 2, 3, 5, the w curves, then ROC and histograms per OOD set (3 sets).
  assert.equal(ids.length, 5 + 2 * 3);
  for (const id of ids) for (const ext of ['png', 'svg', 'vl.json']) assert.ok(figs.includes(`${id}.${ext}`), `${id}.${ext}`);
  const png = readFileSync(join(out, 'figures', `${ids[0]}.png`));
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const tables = readdirSync(join(out, 'tables'));
  for (const t of ['main', 'nap-alone', 'pairs', 'w-nap-e', 'w-nap-r', 'w-nap-a', 'nap-grid', 'percentile-react', 'layers', 'openood-fpr']) {
    assert.ok(tables.includes(`pipeline-${t}.md`) && tables.includes(`pipeline-${t}.csv`), t);
  }
  assert.ok(tables.includes('pipeline-claims.md'));
  assert.ok(tables.includes('claims-summary.md') && tables.includes('claims-summary.csv'), 'the claims across backbones');
  assert.ok(!tables.some((t) => t.startsWith('tuned-w')), 'no tune in the config: no tuned-w tables');
  assert.match(readFileSync(join(out, 'tables', 'pipeline-main.md'), 'utf8'), /near \(avg\) FPR95↓ \| near \(avg\) AUROC↑ \| far \(avg\) FPR95↓/);
  assert.ok(progress.some((p) => p.startsWith('pipeline: ID')) && progress.some((p) => p.includes('tables and bootstrap')), progress.join(' / '));
  assert.equal(summary.models.length, 1);
});

test('figure sizes: each light SVG within 50 kB + 60 bytes per data row; index.html inlines each figure once', () => {
  const ids: string[] = json.models[0].figures.map((f: { id: string }) => f.id);
  let total = 0;
  for (const id of ids) {
    const svg = readFileSync(join(out, 'figures', `${id}.svg`), 'utf8');
    const rows = JSON.parse(readFileSync(join(out, 'figures', `${id}.vl.json`), 'utf8')).data.values.length;
    assert.ok(svg.length <= 50_000 + 60 * rows, `${id}: ${svg.length} bytes for ${rows} rows`);
    total += svg.length;
  }
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(html.length <= total + 150_000, `index.html ${html.length} bytes, figures ${total}`);
});

test('report.json: every table with bootstrap intervals, OpenOOD\'s reverse FPR under its own name, claims, sweep check', () => {
  assert.equal(json.kind, 'napood-report');
  const m = json.models[0];
  const main = m.tables.main;
  assert.deepEqual(main.ood.map((o: { name: string; group: string }) => `${o.name}/${o.group}`), ['near-blobs/near', 'noise/far', 'images/far']);
  assert.equal(main.ood[2].n, 6, 'the image folder: 6 of 9 decode');
  assert.equal(main.bootstrap.iterations, 100);
  for (const r of main.methods) {
    assert.ok(r.results['noise'].fpr95_ci.length === 2 && r.groups.far.fpr95 >= 0, r.method);
  }
  assert.equal(m.tables.wSweeps[0].report.methods.length, 11);
  assert.equal(m.tables.layers.methods[0].method, 'nap[L1]');
  assert.equal(m.tables.layerInfo.length, 3, 'the fixture has 3 candidate layers');
  assert.equal(m.tables.layerInfo[2].tensor, m.featureMap);
  assert.ok(m.tables.reverseFpr.length === main.methods.length && typeof m.tables.reverseFpr[0].average === 'number');
  assert.notDeepEqual(m.tables.reverseFpr.map((r: { average: number }) => r.average), main.methods.map((r: { average: { fpr95: number } }) => r.average.fpr95));
  assert.ok(json.definitions.openood_fpr_at_95_ood_recall);
  for (const v of Object.values(m.consistency)) assert.equal(v, 0);
  assert.equal(m.claims.length, 1 + 5 + 5 + 1 + 1);
  for (const c of m.claims) assert.ok(['holds', 'does not hold', 'not measured'].includes(c.verdict) && c.measured.length > 10, c.id);
  assert.equal(m.claims.find((c: { id: string }) => c.id === 'accuracy-unchanged').verdict, 'holds');
  // Across backbones (one here): a row per claim, each cell the claim's verdict; no tune, no tuned-w summary.
  assert.deepEqual(json.claimsSummary.models, ['pipeline']);
  assert.deepEqual(json.claimsSummary.rows.map((r: { id: string; cells: Record<string, { verdict: string }> }) => [r.id, r.cells.pipeline.verdict]), m.claims.map((c: { id: string; verdict: string }) => [c.id, c.verdict]));
  assert.equal(json.tunedWSummary, undefined);
  assert.deepEqual(summary.claimsSummary, json.claimsSummary, 'makeReport returns what report.json holds');
});

test('the folder is refused when it holds other files or the inputs; an earlier report is replaced', async () => {
  const busy = join(scratch, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'mine.txt'), 'x');
  await assert.rejects(makeReport(config, busy, { bootstrap: 0 }), (e: unknown) => e instanceof NapoodError && /^--out: expected a new folder, an empty one, or an earlier napood report/.test(e.message));
  assert.ok(existsSync(join(busy, 'mine.txt')));
  await assert.rejects(makeReport(config, join(fixturesDir, 'report'), { bootstrap: 0 }), /--out: expected a new folder/);
  await assert.rejects(makeReport(join(scratch, 'none.json'), join(scratch, 'x')), { message: /^CONFIG: expected a readable report configuration/ });
  const bad = join(scratch, 'bad.json');
  writeFileSync(bad, JSON.stringify({ models: [{ name: 'm', path: join(fixturesDir, 'pipeline', 'model.onnx'), layers: ['nope'] }], sets: { id: join(fixturesDir, 'report', 'id.npy'), ood: [{ name: 'o', path: join(fixturesDir, 'report', 'far.npy'), group: 'far' }] } }));
  await assert.rejects(makeReport(bad, join(scratch, 'bad-out'), { bootstrap: 0 }), { message: /^models\[0\]\.layers: expected layer names among the model's candidates/ });
  assert.ok(!existsSync(join(scratch, 'bad-out')), 'nothing written on failure');
});

test('CLI: napood report CONFIG --out DIR prints the claims; help and a missing CONFIG', () => {
  const bin = join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
  const dir = join(scratch, 'cli');
  const r = spawnSync(process.execPath, [bin, 'report', config, '--out', dir, '--bootstrap', '20'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\[(holds|does not hold)\] NAP alone beats MSP/);
  assert.match(r.stdout, /report written to/);
  const across = r.stdout.indexOf('The paper\'s claims across backbones');
  assert.ok(across > r.stdout.lastIndexOf('NAP-X leaves ID accuracy unchanged') && across < r.stdout.indexOf('report written to'), 'the matrix after the per-model claims');
  assert.match(r.stdout, /\nclaim +pipeline\nnap-vs-msp +[✓✗] +[+-]?\d+\.\d\d\*?\n/);
  assert.match(r.stdout, /\naccuracy-unchanged +✓ +0\.00\n/);
  assert.doesNotMatch(r.stderr, /\r|WARN/, 'no progress line off a TTY, no vega-lite console output');
  assert.ok(existsSync(join(dir, 'index.html')));
  const again = spawnSync(process.execPath, [bin, 'report', config, '--out', dir, '--bootstrap', '0'], { encoding: 'utf8' });
  assert.equal(again.status, 0, 'an earlier report is replaced');
  const none = spawnSync(process.execPath, [bin, 'report', '--out', dir], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /napood report: CONFIG: expected the path of a report configuration/);
  const help = spawnSync(process.execPath, [bin, 'report', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /napood report CONFIG\.json --out DIR/);
});

const CHROMIUM = '/usr/bin/chromium';

test('index.html in headless Chromium: renders, every figure present, no console errors, no request but the file', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (.ci/run installs Debian's chromium)` }, async () => {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'napood-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await context.newPage();
    const url = pathToFileURL(join(out, 'index.html')).href;
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(url, { waitUntil: 'load' });
    const ids: string[] = json.models[0].figures.map((f: { id: string }) => f.id);
    const found = await page.$$eval('figure.figure', (els) => els.map((e) => e.getAttribute('data-figure')));
    assert.deepEqual([...found].sort(), [...ids].sort());
    for (const id of ids) {
      const box = await page.locator(`#fig-${id} svg`).first().boundingBox();
      assert.ok(box && box.width > 100 && box.height > 100, `${id} is drawn (${JSON.stringify(box)})`);
    }
    assert.equal(await page.locator('svg.marks').count(), ids.length);
    assert.ok((await page.locator('table.claims tr').count()) >= 13);
    assert.equal(await page.locator('h2').first().getAttribute('id'), 'across', 'the claims across backbones come first');
    assert.equal(await page.locator('table.claims-summary tr').count(), 1 + json.claimsSummary.rows.length);
    const box = await page.locator('table.claims-summary').boundingBox();
    assert.ok(box && box.width > 200 && box.height > 100, `the matrix is laid out (${JSON.stringify(box)})`);
    assert.match(await page.title(), /napood report/);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [url], 'no network: only the file itself');
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const urls = [...html.matchAll(/(?:https?:)?\/\/[A-Za-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*/g)].map((m) => m[0]);
    assert.deepEqual([...new Set(urls)].filter((u) => !/^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)$/.test(u)), [], 'no URL but the SVG namespaces');
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
