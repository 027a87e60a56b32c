/**
 * The report folder, written whole or not at all: checked before any work (it may not exist
 * yet, be empty, or hold an earlier napood report — never an input or a folder holding inputs),
 * staged in a temporary folder beside it, and moved into place at the end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NapoodError, describe } from '../errors.js';
import { removeOnExit, removeStale } from './io/cleanup.js';
import { realOrSelf as real } from './outputs.js';

const STALE = /^(\d+)\.[0-9a-f]+\.tmp$/;

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Refuse an output folder that holds something other than an earlier report, or any input. */
export function checkReportDir(out: string, inputs: readonly string[], flag = '--out'): void {
  const st = fs.statSync(out, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new NapoodError(flag, 'a folder to write the report in (new, empty, or an earlier napood report)', `${describe(out)}, a file`);
  if (st) {
    const entries = fs.readdirSync(out);
    if (entries.length && !isEarlierReport(out)) throw new NapoodError(flag, 'a new folder, an empty one, or an earlier napood report (it is replaced)', `${describe(out)}, a folder holding ${entries.length} other entries`);
  }
  const parent = path.dirname(path.resolve(out));
  if (!fs.statSync(parent, { throwIfNoEntry: false })?.isDirectory()) throw new NapoodError(flag, 'a folder in an existing folder', `${describe(out)} (no folder ${describe(path.dirname(out))})`);
  try { fs.accessSync(parent, fs.constants.W_OK); } catch { throw new NapoodError(flag, 'a folder in a writable folder', describe(out)); }
  const outReal = real(out);
  for (const i of inputs) {
    const r = real(i.replace(/^@/, ''));
    if (isInside(r, outReal)) {
      throw new NapoodError(flag, 'a folder that holds none of the report\'s inputs (it is replaced)', `${describe(out)}, which holds ${describe(i)}`);
    }
  }
}

function isEarlierReport(dir: string): boolean {
  try {
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as { kind?: unknown };
    return j.kind === 'napood-report';
  } catch {
    return false;
  }
}

/** Write `files` (relative paths → bytes) as the folder `out`, replacing an earlier report there. */
export function writeReportDir(out: string, files: ReadonlyMap<string, Uint8Array | string>, flag = '--out'): void {
  const abs = path.resolve(out);
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  removeStale(parent, `.${base}.`, STALE);
  const stage = path.join(parent, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const forget = removeOnExit(stage);
  try {
    for (const [rel, data] of files) {
      const target = path.join(stage, rel);
      if (!isInside(target, stage)) throw new Error(`report file outside the folder: ${rel}`);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, data);
    }
    let old: string | undefined;
    if (fs.existsSync(abs)) {
      old = path.join(parent, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      removeOnExit(old);
      fs.renameSync(abs, old);
    }
    fs.renameSync(stage, abs);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(stage, { recursive: true, force: true });
    if (e instanceof NapoodError) throw e;
    throw new NapoodError(flag, 'a report folder that can be written', `${describe(out)}: ${(e as Error).message}`);
  } finally {
    forget();
  }
}
