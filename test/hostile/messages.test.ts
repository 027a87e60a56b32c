/**
 * Files named by mistake (or on purpose) where napood expects JSON — a state file, a
 * preprocessing settings file — must not have their text echoed in messages (issue #10): V8's
 * JSON.parse messages quote the start of the text; napood says where the syntax error is instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NapoodError, jsonSyntaxError } from '../../src/errors.js';
import { parseStateFile } from '../../src/app/state-file.js';
import { parsePreprocessText } from '../../src/images/preprocess.js';
import { readPreprocessFile } from '../../src/node/images/preprocess-flags.js';

const SECRET = 'root:$6$Zq8pS3cr3tHash$abcdefghijklmnop:19000:0:99999:7:::\n';
const LEAK = /root|\$6\$|S3cr3t|99999|'r'/;

function napoodError(f: () => unknown, match: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof NapoodError, String(e));
    assert.match(e.message, match);
    assert.doesNotMatch(e.message, LEAK);
    return true;
  });
}

test('jsonSyntaxError: position as line and column, early end, never the text', () => {
  const msg = (text: string) => { try { JSON.parse(text); } catch (e) { return jsonSyntaxError(e, text); } return 'parsed'; };
  assert.equal(msg(SECRET), `not valid JSON (a syntax error; ${SECRET.length} characters, not starting with { or [)`);
  assert.equal(msg('{ "a": 1,'), 'not valid JSON (it ends early, after 9 characters)');
  assert.equal(msg('{\n  "a": 1\n  "b": 2 }'), 'not valid JSON (a syntax error at line 3, column 3)');
});

test('a shadow-like file as --state or --preprocess: the message says it is not JSON, without quoting it', () => {
  napoodError(() => parseStateFile(SECRET, '/etc/shadow'), /^--state: expected a JSON state file written by `napood fit`, found \/etc\/shadow: not valid JSON \(a syntax error; \d+ characters, not starting with \{ or \[\)$/);
  napoodError(() => parsePreprocessText(SECRET, 'prep.json'), /^prep\.json: expected valid JSON, found not valid JSON/);
  const t = mkdtempSync(join(tmpdir(), 'napood-hostile-msg-'));
  try {
    const f = join(t, 'shadow');
    writeFileSync(f, SECRET);
    napoodError(() => readPreprocessFile(f), /expected valid JSON, found not valid JSON/);
    if (process.platform !== 'win32') {
      const fifo = join(t, 'fifo.json');
      execFileSync('mkfifo', [fifo]);
      napoodError(() => readPreprocessFile(fifo), /^.*fifo\.json: expected a readable JSON file of preprocessing settings, found a FIFO \(named pipe\)$/);
      napoodError(() => readPreprocessFile(t), /found a (?:folder|directory)$/);
    }
  } finally {
    rmSync(t, { recursive: true, force: true });
  }
});
