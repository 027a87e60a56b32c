/**
 * `napood check`'s output formats, in process with the output injected (CheckOutput): on a
 * terminal the aligned table, elsewhere tab-separated values with a header; --table and --tsv
 * force one or the other; two formats are refused by name; TSV escapes what TSV cannot hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCheck, tsvField, type CheckOutput } from '../../src/cli/check-command.js';
import { NapoodError } from '../../src/errors.js';
import { openModel } from '../../src/node/index.js';
import { modelPath, syntheticImages, tempDir, writePngs } from './helpers.js';

function sink(isTTY: boolean): CheckOutput & { out: string; err: string } {
  const s = { isTTY, out: '', err: '', write(t: string) { s.out += t; }, note(t: string) { s.err += t; } };
  return s;
}

test('tsvField escapes backslash, tab, newline and CR, and nothing else', () => {
  assert.equal(tsvField('a b,c"d'), 'a b,c"d');
  assert.equal(tsvField('x\ty\nz\r\\w'), 'x\\ty\\nz\\r\\\\w');
  assert.equal(tsvField('\\t'), '\\\\t', 'a literal backslash-t stays distinguishable from a tab');
});

test('check: the table on a terminal, TSV elsewhere; --table / --tsv force them; two formats are refused', async () => {
  const t = tempDir();
  const od = await openModel(modelPath, { preprocess: 'cifar' });
  try {
    await od.fit('energy');
    const det = join(t.dir, 'e.detector');
    await (await od.calibrate(syntheticImages(30, 3))).save(det);
    const news = join(t.dir, 'new');
    await writePngs(news, syntheticImages(4, 4));
    const args = ['--detector', det, '--model', modelPath, news];
    const tty = sink(true);
    const pipe = sink(false);
    const forcedTable = sink(false);
    const forcedTsv = sink(true);
    assert.equal(await runCheck(args, tty), 0);
    assert.equal(await runCheck(args, pipe), 0);
    assert.equal(await runCheck(['--table', ...args], forcedTable), 0);
    assert.equal(await runCheck(['--tsv', ...args], forcedTsv), 0);

    const table = tty.out.trimEnd().split('\n');
    assert.match(table[0]!, /^input +score +p-value +verdict +class +confidence$/);
    assert.equal(table.length, 5);
    assert.ok(!tty.out.includes('\t'));
    assert.equal(forcedTable.out, tty.out, '--table in a pipe = the terminal default');

    const lines = pipe.out.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines[0], 'path\tscore\tp_value\tverdict\tclass\tconfidence');
    assert.equal(lines.length, 5);
    for (const l of lines.slice(1)) {
      const f = l.split('\t');
      assert.equal(f.length, 6);
      assert.match(f[0]!, /syn-4-\d\.png$/);
      assert.ok(Number.isFinite(Number(f[1])) && Number(f[2]) > 0 && Number(f[2]) <= 1);
      assert.ok(f[3] === 'ID' || f[3] === 'OOD');
      assert.equal(f[1], String(Number(f[1])), 'full precision, no padding');
    }
    assert.equal(forcedTsv.out, pipe.out, '--tsv on a terminal = the pipe default');
    for (const s of [tty, pipe]) assert.match(s.err, /^napood check: \d of 4 inputs OOD \(energy: OOD iff p-value ≤ 0\.05/, 'the summary goes to the note stream');

    for (const [a, b] of [['--json', '--tsv'], ['--csv', '--table'], ['--json', '--csv']] as const) {
      await assert.rejects(runCheck([a, b, ...args], sink(false)), (e: unknown) => e instanceof NapoodError && e.message === `${a}: expected one output format (--json, --csv, --tsv or --table), found ${a} and ${b}`);
    }
  } finally {
    await od.release();
    t.remove();
  }
});
