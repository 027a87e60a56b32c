/** The CLI progress line: bar, counts, rate and ETA (pure text). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, progressText } from '../../src/cli/progress.js';

test('progressText shows the bar, rows, percent, rate and ETA', () => {
  assert.equal(progressText('r18', 'ID', 250, 1000, 5, 10), 'r18: ID [###.......] 250/1000 (25.0%) 50/s ETA 15s');
  assert.equal(progressText('', 'fit pass 1/2', 1000, 1000, 4, 4), 'fit pass 1/2 [####] 1000/1000 (100.0%) 250/s ETA 0s');
  assert.match(progressText('m', 'x', 0, 10, 0), /0\.0\/s ETA \?$/);
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(65), '1:05');
});
