/**
 * Shared by the hostile-model tests (issue #10): the fixtures of tools/make_onnx_hostile_fixtures.py,
 * the built CLI in a child process (bounded in time: a hang is a failure, not a stuck suite), and
 * the assertion that a refusal is a NapoodError with its message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NapoodError } from '../../src/errors.js';

/** test/fixtures/onnx-hostile/ (this file is compiled to <outDir>/test/onnx-hostile/). */
export const HOSTILE = fileURLToPath(new URL('../../../test/fixtures/onnx-hostile/', import.meta.url));
export const binPath = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

export interface Run { code: number; stdout: string; stderr: string; timedOut: boolean }

/** `napood ARGS` in `cwd`, killed after `timeoutMs`. */
export function napood(args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): Run {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined || r.signal !== null };
}

/** A refusal: exit 2, every pattern on stderr, no stack trace or internal error, nothing on stdout. */
export function assertRefused(r: Run, ...patterns: RegExp[]): void {
  assert.equal(r.timedOut, false, `napood did not finish: ${r.stderr.slice(-400)}`);
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}: ${r.stderr.slice(-600)}`);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.doesNotMatch(r.stderr, /internal error|RangeError|TypeError|at .*\.js:\d+/);
  assert.equal(r.stdout, '');
}

/** For assert.rejects / assert.throws: a NapoodError whose message matches `re` (and whose argument is `argument`). */
export function napoodError(re: RegExp, argument?: string): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof NapoodError, `expected a NapoodError, got ${String(e)}${e instanceof Error ? `\n${e.stack}` : ''}`);
    assert.match(e.message, re);
    if (argument !== undefined) assert.equal(e.argument, argument);
    return true;
  };
}
