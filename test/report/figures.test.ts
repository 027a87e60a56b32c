/**
 * Figure data and layout: ROC curves keep their corners only (the same drawn curve), and
 * Figure 3's labels (src/app/report/pareto.ts) neither overlap each other nor leave the plot,
 * for ~20 methods that share one accuracy, with the legend below the plot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rocPoints } from '../../src/app/report/figdata.js';
import { paretoSpec, placeLabels, textWidth } from '../../src/app/report/pareto.js';

test('rocPoints: the corners of the ROC staircase, none inside a vertical or horizontal run', () => {
  assert.deepEqual(rocPoints(Float64Array.of(5, 4, 3), Float64Array.of(2, 1)), [{ fpr: 0, tpr: 0 }, { fpr: 0, tpr: 1 }, { fpr: 1, tpr: 1 }]);
  assert.deepEqual(rocPoints(Float64Array.of(4, 2), Float64Array.of(3, 1)), [
    { fpr: 0, tpr: 0 }, { fpr: 0, tpr: 0.5 }, { fpr: 0.5, tpr: 0.5 }, { fpr: 0.5, tpr: 1 }, { fpr: 1, tpr: 1 },
  ]);
  // A tie moves diagonally; the runs around it keep their ends.
  assert.deepEqual(rocPoints(Float64Array.of(3, 2, 1), Float64Array.of(2, 0)), [
    { fpr: 0, tpr: 0 }, { fpr: 0, tpr: 1 / 3 }, { fpr: 0.5, tpr: 2 / 3 }, { fpr: 0.5, tpr: 1 }, { fpr: 1, tpr: 1 },
  ]);
  const many = rocPoints(Float64Array.from({ length: 5000 }, (_, k) => k), Float64Array.from({ length: 5000 }, (_, k) => k + 0.5));
  assert.equal(many.length, 200);
  assert.deepEqual([many[0], many[199]], [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }]);
});

test('textWidth: DejaVu Sans advances (a 10 px "nap-e:w=0.4" is 64.4 px), unknown characters wide', () => {
  assert.ok(Math.abs(textWidth('nap-e:w=0.4', 10) - 64.4) < 0.05, String(textWidth('nap-e:w=0.4', 10)));
  assert.equal(textWidth('Ω', 10), 8);
});

const overlap = (a: { x0: number; x1: number; y: number }, b: { x0: number; x1: number; y: number }, line: number) => a.x0 < b.x1 && b.x0 < a.x1 && Math.abs(a.y - b.y) < line - 1e-9;

test('placeLabels: ~20 methods at one accuracy and two at the right edge: no overlap, inside the plot, in the order of their points', () => {
  const points = [
    ...Array.from({ length: 18 }, (_, k) => ({ px: 440, py: 40 + 3 * k + (k % 3), text: `nap-x:w=0.${k}` })),
    { px: 455, py: 45, text: 'react' }, { px: 10, py: 300, text: 'dice' }, { px: 12, py: 302, text: 'nap-d:w=0.5' },
  ];
  const placed = placeLabels(points, 460, 340);
  const boxes = placed.map((l) => ({ x0: l.side === 'right' ? l.x : l.x - l.width, x1: l.side === 'right' ? l.x + l.width : l.x, y: l.y }));
  for (let i = 0; i < boxes.length; i++) {
    assert.ok(boxes[i].x0 >= 0 && boxes[i].x1 <= 460 && placed[i].y >= 6 && placed[i].y <= 334, `${points[i].text} inside: ${JSON.stringify(boxes[i])}`);
    for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlap(boxes[i], boxes[j], 12), `${points[i].text} / ${points[j].text}`);
  }
  assert.deepEqual(placed.slice(0, 19).map((l) => l.side), Array(19).fill('left'));
  assert.deepEqual(placed.slice(19).map((l) => l.side), ['right', 'right']);
  const column = points.slice(0, 18).map((p, i) => ({ py: p.py, y: placed[i].y })).sort((a, b) => a.py - b.py);
  for (let k = 1; k < column.length; k++) assert.ok(column[k].y > column[k - 1].y, 'the order of the points');
});

test('paretoSpec: fixed domains around the points, legend below the plot, leader lines only for moved labels', () => {
  const rows = [
    { method: 'msp', accuracy: 93.85, auroc: 88, front: false }, { method: 'energy', accuracy: 93.85, auroc: 95.7, front: false },
    { method: 'maxlogit', accuracy: 93.85, auroc: 95.6, front: false }, { method: 'react', accuracy: 93.85, auroc: 96.9, front: true },
    { method: 'dice', accuracy: 89.5, auroc: 89, front: false },
  ];
  const spec = paretoSpec(rows) as { data: { values: Record<string, unknown>[] }; layer: { encoding: Record<string, { scale?: { domain: number[] }; legend?: { orient: string } }> }[] };
  const x = spec.layer[0].encoding.x.scale!.domain;
  assert.ok(x[0] < 89.5 && x[1] > 93.85 && x[1] - 93.85 < 0.5, JSON.stringify(x));
  assert.equal(spec.layer[2].encoding.color.legend!.orient, 'bottom');
  const v = spec.data.values;
  assert.deepEqual(v.map((r) => r.side), ['left', 'left', 'left', 'left', 'right']);
  assert.equal(v[4].leader, false);
  assert.ok(v.slice(1, 4).some((r) => r.leader), 'energy and maxlogit (0.1 pp apart) are spread');
});
