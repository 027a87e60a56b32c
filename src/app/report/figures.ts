/**
 * The report's figures as Vega-Lite specs: pure data (no rendering, no I/O), each with its
 * records inlined, so that src/node/report-render.ts can turn it into SVG (vega's headless
 * renderer) and PNG (resvg), and a page could render the same spec with vega-embed.
 *
 * Paper figures: 1 (the prior: per-sample max against mean activation of the feature map), 2
 * (S_Energy against S_NAP), 3 (ID accuracy against average AUROC: the Pareto front), 5 (the prior
 * at four depths); the w curves of Tables 4 / 8 / 9; ROC curves and score histograms per OOD set.
 * Data marks carry aria: false (no aria-label per point or bar: thousands of them would make the
 * SVG ~3× heavier and help no screen reader); axes, legends and titles keep theirs, and each
 * figure has its caption.
 */
import type { FigureData, Row } from './figdata.js';
import { paretoSpec } from './pareto.js';

export interface Figure {
  /** File-safe id, unique within the report (`<model>-prior`, …). */
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: Readonly<Record<string, unknown>>;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = { font: 'DejaVu Sans, Arial, sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelLimit: 260 } };
const SET_COLOUR = { field: 'set', type: 'nominal', title: 'set', scale: { scheme: 'category10' } };

function base(title: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { $schema: SCHEMA, title, config: CONFIG, background: 'white', ...extra };
}

function scatter(rows: Row[], x: string, y: string, xTitle: string, yTitle: string, facet?: { field: string; title: string; order?: readonly string[] }, logY = false): Record<string, unknown> {
  const layerSpec = {
    mark: { type: 'point', filled: true, size: 14, opacity: 0.55, aria: false },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle, scale: { zero: false } },
      y: { field: y, type: 'quantitative', title: yTitle, scale: logY ? { type: 'log' } : { zero: false } },
      color: SET_COLOUR,
    },
  };
  if (!facet) return { data: { values: rows }, width: 420, height: 320, ...layerSpec };
  return {
    data: { values: rows },
    facet: { column: { field: facet.field, type: 'nominal', title: facet.title, ...(facet.order ? { sort: facet.order } : {}) } },
    spec: { width: 300, height: 260, ...layerSpec },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  };
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'set';
}

export function modelFigures(model: string, d: FigureData): Figure[] {
  const figs: Figure[] = [];
  const add = (id: string, title: string, caption: string, spec: Record<string, unknown>) => figs.push({ id: `${model}-${id}`, title, caption, spec: base(title, spec) });
  add('prior', 'Figure 1 — the neural activation prior', `Per sample: max against mean activation within a channel of the feature map before global pooling, ID against OOD (seeded sample of rows). Left: channel ${d.prior.channel}, the channel whose max/(mean+1) separates the sampled ID and OOD rows best (AUROC ${(100 * d.prior.channelAuroc).toFixed(1)} %) — chosen on the test OOD sets, so this panel is illustrative only and is used by no score. Right: the average over all channels.`,
    scatter(d.prior.rows, 'mean', 'max', 'mean activation', 'max activation', { field: 'panel', title: '', order: [...new Set(d.prior.rows.map((r) => String(r.panel)))] }));
  add('energy-nap', 'Figure 2 — S_Energy against S_NAP', 'Per sample (seeded sample of rows): the energy score against the NAP score (log scale), ID against each OOD set. NAP adds information that the pooled features lose.',
    scatter(d.energyNap, 'energy', 'nap', 'S_Energy', 'S_NAP (log)', undefined, true));
  if (d.pareto.length) {
    add('pareto', 'Figure 3 — ID accuracy against average AUROC', 'Each method: ID accuracy of the logits it classifies with against its AUROC averaged over the OOD sets; the line joins the Pareto front (methods no other method beats on both). A label moved off its point has a grey leader line.', paretoSpec(d.pareto));
  }
  add('depths', 'Figure 5 — the prior at four depths', 'Per sample: channel-averaged max against mean activation at four depths of the network (evenly spaced among the chosen layers; the last is the feature map before global pooling), ID against OOD.',
    scatter(d.depths.rows, 'mean', 'max', 'mean activation (channel average)', 'max activation (channel average)', { field: 'layer', title: '', order: d.depths.layers }));
  if (d.wCurves.length) {
    const enc = (field: string, title: string) => ({
      width: 360, height: 260,
      layer: [
        { mark: { type: 'line', point: true, aria: false }, encoding: { x: { field: 'w', type: 'quantitative', title: 'w (0 = NAP alone, 1 = X alone)' }, y: { field, type: 'quantitative', title, scale: { zero: false } }, color: { field: 'method', type: 'nominal', title: 'NAP-X' } } },
        { transform: [{ filter: 'datum.configured' }], mark: { type: 'point', shape: 'diamond', size: 140, filled: true, aria: false }, encoding: { x: { field: 'w', type: 'quantitative' }, y: { field, type: 'quantitative' }, color: { field: 'method', type: 'nominal' } } },
      ],
    });
    add('w-curves', 'Tables 4 / 8 / 9 — w sweeps', 'Average over the OOD sets of FPR95 (left) and AUROC (right) against w for each NAP-X, from S_X and S_NAP computed once; diamonds mark the configured (paper) w. Descriptive: w is never chosen on the test sets.',
      { data: { values: d.wCurves }, hconcat: [enc('fpr95', 'average FPR95 (%)'), enc('auroc', 'average AUROC (%)')] });
  }
  d.roc.forEach((r, k) => add(`roc-${k + 1}-${slug(r.set)}`, `ROC — ${r.set}`, `ROC curves (ID positive: share of ID accepted against share of ${r.set} accepted) of every method.`, {
    data: { values: r.rows }, width: 380, height: 340,
    mark: { type: 'line', strokeWidth: 1.5, aria: false },
    encoding: { x: { field: 'fpr', type: 'quantitative', title: `FPR (share of ${r.set} accepted)` }, y: { field: 'tpr', type: 'quantitative', title: 'TPR (share of ID accepted)' }, color: { field: 'method', type: 'nominal', title: 'method', scale: { scheme: 'tableau20' } }, order: { field: 'fpr' } },
  }));
  d.hist.forEach((h, k) => add(`hist-${k + 1}-${slug(h.set)}`, `Score histograms — ${h.set}`, `Share of samples per score bin, ID against ${h.set}, one panel per method (each with its own score axis; 0.5–99.5 % range, the tails in the end bins).`, {
    data: { values: h.rows },
    facet: { field: 'method', type: 'nominal', title: null, sort: [...new Set(h.rows.map((r) => r.method))] }, columns: 4,
    spec: { width: 190, height: 110, mark: { type: 'bar', opacity: 0.55, binSpacing: 0, aria: false }, encoding: { x: { field: 'start', type: 'quantitative', title: 'score', scale: { zero: false } }, x2: { field: 'end' }, y: { field: 'share', type: 'quantitative', title: 'share', stack: null }, y2: { datum: 0 }, color: SET_COLOUR } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  }));
  return figs;
}
