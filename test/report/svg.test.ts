/**
 * The report's light SVG (src/node/report-svg.ts): what it rewrites, that resvg draws the light
 * SVG as it draws vega's (pixels compared), and the bytes a scatter point or a histogram bar
 * costs in the figures that modelFigures builds (the bound that fails if the bloat comes back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import { compactSvg, round1 } from '../../src/node/report-svg.js';
import { renderSvg } from '../../src/node/report-render.js';
import { modelFigures } from '../../src/app/report/figures.js';
import type { FigureData, Row } from '../../src/app/report/figdata.js';
import { Xoshiro128 } from '../../src/metrics/index.js';

test('round1: 0.1 px, no -0, integers and short numbers kept', () => {
  assert.deepEqual([170.55936523084912, -0.04, 2, 0.25, 1e-15, -3.96].map(round1), ['170.6', '0', '2', '0.3', '0', '-4']);
});

test('compactSvg: circles, fill-opacity, shared paint under one <g>, zero bars and empty paths dropped, rules keep x2/y2', () => {
  const circle = (x: number, y: number, fill: string) => `<path transform="translate(${x},${y})" d="M1.871,0A1.871,1.871,0,1,1,-1.871,0A1.871,1.871,0,1,1,1.871,0" fill="${fill}" stroke-width="2" opacity="0.55"/>`;
  const svg = '<svg class="marks"><g fill="none"><path class="background" aria-hidden="true" d="M0,0h0v0h0Z"/>'
    + `<g class="mark-symbol role-mark marks" aria-hidden="true">${circle(170.55936523084912, 101.44934633125861, '#1f77b4')}${circle(1.04, 2, '#1f77b4')}${circle(3, 4, '#ff7f0e')}</g>`
    + '<g class="mark-rect role-mark marks" aria-hidden="true"><path d="M8.378337753287433,106.15h6.137832641994054v3.85h-6.137832641994054Z" fill="#1f77b4" opacity="0.55"/><path d="M14.516170395281487,100h6.1378v0h-6.1378Z" fill="#1f77b4" opacity="0.55"/></g>'
    + '<g class="mark-rule role-axis-grid"><line transform="translate(0.5,-110)" x2="0" y2="110" stroke="#ddd" stroke-width="1" opacity="1"/><line transform="translate(48.25,-110)" x2="0" y2="110" stroke="#ddd" stroke-width="1" opacity="0.5"/></g>'
    + '<path class="foreground" aria-hidden="true" d="" display="none"/></g></svg>';
  assert.equal(compactSvg(svg), '<svg class="marks"><g fill="none">'
    + '<g class="mark-symbol role-mark marks" aria-hidden="true"><g fill="#1f77b4" fill-opacity="0.55"><circle cx="170.6" cy="101.4" r="1.9"/><circle cx="1" cy="2" r="1.9"/></g><circle cx="3" cy="4" r="1.9" fill="#ff7f0e" fill-opacity="0.55"/></g>'
    + '<g class="mark-rect role-mark marks" aria-hidden="true"><path d="M8.4,106.2h6.1v3.8h-6.1Z" fill="#1f77b4" fill-opacity="0.55"/></g>'
    + '<g class="mark-rule role-axis-grid"><g stroke="#ddd" stroke-width="1"><line transform="translate(0.5,-110)" x2="0" y2="110"/><line transform="translate(48.3,-110)" x2="0" y2="110" opacity="0.5"/></g></g>'
    + '</g></svg>');
});

/** Scatter, histogram and the rest of one model's figures on seeded data: `n` sampled rows per set. */
function figureData(n: number): FigureData {
  const rng = new Xoshiro128(7);
  const sets = ['ID (id)', 'near', 'far'];
  const scatter = (fields: () => Row) => sets.flatMap((set) => Array.from({ length: n }, () => ({ set, ...fields() })));
  const prior = scatter(() => ({ panel: 'average over channels', mean: rng.nextDouble(), max: 1 + 2 * rng.nextDouble() }));
  const depths = sets.flatMap((set) => ['L1', 'L2'].flatMap((layer) => Array.from({ length: n }, () => ({ set, layer, mean: rng.nextDouble(), max: 1 + rng.nextDouble() }))));
  const hist = Array.from({ length: 4 }, (_, m) => sets.slice(0, 2).flatMap((set) => Array.from({ length: n / 10 }, (_, k) => ({ method: `m${m}`, set, start: k, end: k + 1, share: 0.01 + rng.nextDouble() / 15 })))).flat();
  return {
    prior: { rows: prior, channel: 0, channelAuroc: 0.5 },
    energyNap: scatter(() => ({ energy: rng.nextDouble() * 10, nap: 0.1 + rng.nextDouble() })),
    pareto: [], depths: { rows: depths, layers: ['L1', 'L2'] }, wCurves: [],
    roc: [], hist: [{ set: 'near', rows: hist }],
  };
}

async function sizes(n: number): Promise<Map<string, { raw: string; svg: string }>> {
  const out = new Map<string, { raw: string; svg: string }>();
  for (const f of modelFigures('m', figureData(n))) {
    const raw = await renderSvg(f.spec, f.id);
    out.set(f.id.slice(2), { raw, svg: compactSvg(raw) });
  }
  return out;
}

const small = await sizes(100);
const large = await sizes(600);

test('bytes per scatter point at most 42, per histogram bar at most 42 (vega\'s own SVG: ~180 and ~145; ~320 and ~260 with per-item aria-labels)', () => {
  const points = { prior: 3 * 500, 'energy-nap': 3 * 500, depths: 3 * 2 * 500 };
  for (const [id, extra] of Object.entries(points)) {
    const per = (large.get(id)!.svg.length - small.get(id)!.svg.length) / extra;
    assert.ok(per > 30 && per <= 42, `${id}: ${per.toFixed(1)} bytes per point`);
    assert.equal((large.get(id)!.svg.match(/<circle /g) ?? []).length, extra + 3 * 100 * (id === 'depths' ? 2 : 1) + 3, `${id}: every point (and legend symbol) a circle`);
    assert.doesNotMatch(large.get(id)!.svg, /aria-label="[^"]*: [\d.]+;/, `${id}: no per-point aria-label`);
  }
  const bars = (svg: string) => (svg.match(/<path d="M[\d.]+,[\d.]+h/g) ?? []).length;
  const [a, b] = [small, large].map((s) => s.get('hist-1-near')!.svg);
  assert.deepEqual([bars(a), bars(b)], [4 * 2 * 10, 4 * 2 * 60]);
  const per = (b.length - a.length) / (bars(b) - bars(a));
  assert.ok(per <= 42, `histogram: ${per.toFixed(1)} bytes per bar`);
});

function pixels(svg: string) {
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: 'white', font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render();
  return { width: r.width, height: r.height, data: r.pixels };
}

test('resvg draws the light SVG as vega\'s: same size, pixels differ only in anti-aliasing (0.1 px rounding)', () => {
  for (const [id, { raw, svg }] of large) {
    const a = pixels(raw);
    const b = pixels(svg);
    assert.deepEqual([b.width, b.height], [a.width, a.height], id);
    let sum = 0;
    let far = 0;
    for (let i = 0; i < a.data.length; i++) {
      const d = Math.abs(a.data[i] - b.data[i]);
      sum += d;
      if (d > 64) far++;
    }
    assert.ok(sum / a.data.length < 0.5, `${id}: mean channel difference ${(sum / a.data.length).toFixed(3)}`);
    assert.ok(far / a.data.length < 2e-4, `${id}: ${far} of ${a.data.length} channel values differ by more than 64`);
  }
});
