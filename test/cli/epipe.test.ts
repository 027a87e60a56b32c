/**
 * A reader that closes stdout early (`napood … | head -1`) is not an error of the run: no EPIPE
 * stack trace, the command's own exit code, and the files it was asked to write are written.
 * The child's stdout is closed before the child starts writing (it takes ~200 ms to start).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../helpers.js';

const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

function runClosedStdout(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

test('stdout closed by the reader: methods and help exit 0 without an EPIPE trace', async () => {
  for (const args of [['methods'], ['eval', '--help'], ['--version']]) {
    const r = await runClosedStdout(args);
    assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /EPIPE|Error|at /, args.join(' '));
  }
});

test('stdout closed by the reader: eval still writes its --csv file and exits 0', async () => {
  const sign = join(fixturesDir, 'golden', 'sign');
  const dir = mkdtempSync(join(tmpdir(), 'napood-epipe-'));
  try {
    const csv = join(dir, 'r.csv');
    const r = await runClosedStdout(['eval', '--id', join(sign, 'id'), '--ood', `flat=${join(sign, 'ood')}`, '--methods', 'nap,energy', '--bootstrap', '0', '--csv', csv]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|at /);
    assert.ok(existsSync(csv));
    assert.match(readFileSync(csv, 'utf8'), /^method,/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
