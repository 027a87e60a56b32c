/**
 * Figure 3 (ID accuracy against average AUROC, the Pareto front) as a Vega-Lite spec, with its
 * method labels laid out here rather than by vega (Vega-Lite has no label placement): most
 * methods share the base model's logits, hence one accuracy, so their labels stack in a column.
 *
 * The scales get fixed domains (no nice, no zero), so data and pixels convert exactly. Each
 * label goes right of its point, or left where it would leave the plot; labels whose horizontal
 * extents overlap are spread vertically (at least one line apart, in the order of their points,
 * each group centred on its points as far as the plot allows), and a label moved off its point
 * gets a grey leader line. Text widths are DejaVu Sans advances (the figures' first font; the
 * fallbacks are narrower), unknown characters counted wide.
 */
import type { Row } from './figdata.js';

/** DejaVu Sans advance widths (2048 units per em) of the characters method names use. */
const ADVANCE: Readonly<Record<string, number>> = {
  ...Object.fromEntries([...'0123456789'].map((c) => [c, 1303])),
  a: 1255, b: 1300, c: 1126, d: 1300, e: 1260, f: 721, g: 1300, h: 1298, i: 569, j: 569, k: 1186, l: 569, m: 1995,
  n: 1298, o: 1253, p: 1300, q: 1300, r: 842, s: 1067, t: 803, u: 1298, v: 1212, w: 1675, x: 1212, y: 1212, z: 1075,
  ' ': 651, '-': 739, '.': 651, ',': 651, ':': 690, ';': 690, '=': 1716, '_': 1024, '[': 799, ']': 799, '(': 799, ')': 799, '/': 690, '+': 1716,
};

/** Width in px of `text` at `fontSize` in DejaVu Sans (upper case and others: 0.8 em, wider than any). */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const c of text) em += Object.hasOwn(ADVANCE, c) ? ADVANCE[c] / 2048 : 0.8;
  return em * fontSize;
}

export interface LabelPoint { readonly px: number; readonly py: number; readonly text: string }
export interface PlacedLabel { readonly x: number; readonly y: number; readonly side: 'left' | 'right'; readonly width: number }

/**
 * Label positions (px; x is the anchor: the text's start when right of the point, its end when
 * left; y its middle) for points in a width × height plot; `gap` from the point's centre to the text.
 */
export function placeLabels(points: readonly LabelPoint[], width: number, height: number, fontSize = 10, gap = 7): PlacedLabel[] {
  const line = fontSize + 2;
  const boxes = points.map((p) => {
    const w = textWidth(p.text, fontSize);
    const right = p.px + gap + w <= width || width - p.px >= p.px;
    return { side: right ? 'right' as const : 'left' as const, x: right ? p.px + gap : p.px - gap, lo: right ? p.px + gap : p.px - gap - w, hi: right ? p.px + gap + w : p.px - gap, w, y: p.py };
  });
  // Groups: labels whose horizontal extents overlap, transitively (union-find).
  const parent = boxes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    if (boxes[i].lo < boxes[j].hi + 2 && boxes[j].lo < boxes[i].hi + 2) parent[find(i)] = find(j);
  }
  const groups = new Map<number, number[]>();
  boxes.forEach((_, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), i]));
  const y = boxes.map((b) => b.y);
  for (const members of groups.values()) {
    const order = [...members].sort((a, b) => boxes[a].y - boxes[b].y || a - b);
    // Clusters of consecutive labels one line apart, each centred on its points, merged while they overlap.
    const fit = (c: { ids: number[] }) => {
      const mean = c.ids.reduce((s, i) => s + boxes[i].y, 0) / c.ids.length;
      const span = (c.ids.length - 1) * line;
      return Math.min(Math.max(mean - span / 2, line / 2), Math.max(line / 2, height - line / 2 - span));
    };
    let clusters = order.map((i) => ({ ids: [i], top: fit({ ids: [i] }) }));
    for (let merged = true; merged;) {
      merged = false;
      const next: typeof clusters = [];
      for (const c of clusters) {
        const prev = next[next.length - 1];
        if (prev && prev.top + prev.ids.length * line > c.top) {
          prev.ids.push(...c.ids);
          prev.top = fit(prev);
          merged = true;
        } else {
          next.push({ ids: c.ids, top: fit(c) });
        }
      }
      clusters = next;
    }
    for (const c of clusters) c.ids.forEach((i, k) => { y[i] = c.top + k * line; });
  }
  return boxes.map((b, i) => ({ x: b.x, y: y[i], side: b.side, width: b.w }));
}

/** A domain around `values` with `share` of its range (or ±`flat` for one value) either side. */
function domain(values: readonly number[], share: number, flat: number): [number, number] {
  const lo = Math.min(...values), hi = Math.max(...values);
  const pad = hi > lo ? share * (hi - lo) : flat;
  return [lo - pad, hi + pad];
}

const WIDTH = 460;
const HEIGHT = 340;
const FONT = 10;

/** The spec body of Figure 3 (rows: method, accuracy, auroc, front). */
export function paretoSpec(rows: readonly Row[]): Record<string, unknown> {
  const xd = domain(rows.map((r) => Number(r.accuracy)), 0.06, 0.5);
  const yd = domain(rows.map((r) => Number(r.auroc)), 0.06, 1);
  const px = (v: number) => ((v - xd[0]) / (xd[1] - xd[0])) * WIDTH;
  const py = (v: number) => HEIGHT - ((v - yd[0]) / (yd[1] - yd[0])) * HEIGHT;
  const dx = (p: number) => xd[0] + (p / WIDTH) * (xd[1] - xd[0]);
  const dy = (p: number) => yd[0] + ((HEIGHT - p) / HEIGHT) * (yd[1] - yd[0]);
  const placed = placeLabels(rows.map((r) => ({ px: px(Number(r.accuracy)), py: py(Number(r.auroc)), text: String(r.method) })), WIDTH, HEIGHT, FONT);
  const values = rows.map((r, i) => {
    const l = placed[i];
    const moved = Math.abs(l.y - py(Number(r.auroc))) > 3;
    // The leader runs from beside the point to the label's near end.
    const from = px(Number(r.accuracy)) + (l.side === 'right' ? 4 : -4);
    const to = l.x + (l.side === 'right' ? -1 : 1);
    return { ...r, labelX: dx(l.x), labelY: dy(l.y), side: l.side, leader: moved, leaderX: dx(from), leaderX2: dx(to) };
  });
  const x = { field: 'accuracy', type: 'quantitative', title: 'ID accuracy (%)', scale: { domain: xd, nice: false, zero: false } };
  const y = { field: 'auroc', type: 'quantitative', title: 'average AUROC (%)', scale: { domain: yd, nice: false, zero: false } };
  const label = (side: 'left' | 'right') => ({
    transform: [{ filter: `datum.side === '${side}'` }],
    mark: { type: 'text', align: side === 'right' ? 'left' : 'right', baseline: 'middle', fontSize: FONT, aria: false },
    encoding: { x: { field: 'labelX', type: 'quantitative' }, y: { field: 'labelY', type: 'quantitative' }, text: { field: 'method' } },
  });
  return {
    data: { values }, width: WIDTH, height: HEIGHT,
    layer: [
      { transform: [{ filter: 'datum.front' }], mark: { type: 'line', color: '#999', strokeDash: [4, 3], point: false, aria: false }, encoding: { x, y, order: { field: 'accuracy' } } },
      { transform: [{ filter: 'datum.leader' }], mark: { type: 'rule', color: '#bbb', strokeWidth: 0.8, aria: false }, encoding: { x: { field: 'leaderX', type: 'quantitative' }, y: { field: 'auroc', type: 'quantitative' }, x2: { field: 'leaderX2' }, y2: { field: 'labelY' } } },
      {
        mark: { type: 'point', filled: true, size: 60, aria: false },
        encoding: {
          x: { field: 'accuracy', type: 'quantitative' }, y: { field: 'auroc', type: 'quantitative' },
          color: { field: 'front', type: 'nominal', title: null, scale: { domain: [true, false], range: ['#d62728', '#1f77b4'] }, legend: { orient: 'bottom', direction: 'horizontal', labelExpr: "datum.value ? 'on the Pareto front' : 'not on the front'" } },
        },
      },
      label('right'), label('left'),
    ],
  };
}
