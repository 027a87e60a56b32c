/**
 * Output files of a run, checked before any work and written together at the end:
 * - an output must not be one of the inputs (same file by device and inode, so also through
 *   hard or symbolic links) nor lie inside an input that is a folder of .npy files (a dump);
 * - its folder must exist and be writable, and it must not be a folder itself;
 * - all outputs are written to temporary files first and renamed into place only when every one
 *   of them was written, so a failure leaves none of them half-made or missing alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NapoodError, describe } from '../errors.js';
import { randomBytes } from 'node:crypto';
import { removeOnExit, removeStale } from './io/cleanup.js';

export interface OutputPath {
  /** The option that named it, e.g. "--json". */
  readonly flag: string;
  readonly path: string;
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try { return fs.statSync(p); } catch { return undefined; }
}

/** Refuse outputs that would overwrite an input or cannot be written; call before any work. */
export function checkOutputs(outputs: readonly OutputPath[], inputs: readonly string[]): void {
  const inputStats = inputs.map((p) => ({ p, st: statOrUndefined(p), real: realOrSelf(p) }));
  const seen = new Map<string, string>();
  for (const o of outputs) {
    if (o.path === '-') continue;
    const abs = path.resolve(o.path);
    const prior = seen.get(abs);
    if (prior) throw new NapoodError(o.flag, `an output path other than that of ${prior}`, describe(o.path));
    seen.set(abs, o.flag);
    const st = statOrUndefined(o.path);
    if (st?.isDirectory()) throw new NapoodError(o.flag, 'a file path to write', `${describe(o.path)}, a folder`);
    if (st && !st.isFile()) throw new NapoodError(o.flag, 'a regular file path to write', `${describe(o.path)}, a special file`);
    const dir = path.dirname(abs);
    const dst = statOrUndefined(dir);
    if (!dst?.isDirectory()) throw new NapoodError(o.flag, 'a path in an existing directory', `${describe(o.path)} (no folder ${describe(path.dirname(o.path))})`);
    try { fs.accessSync(dir, fs.constants.W_OK); } catch { throw new NapoodError(o.flag, 'a path in a writable directory', `${describe(o.path)} (cannot write in ${describe(path.dirname(o.path))})`); }
    const realDir = realOrSelf(dir);
    for (const i of inputStats) {
      if (st && i.st && st.dev === i.st.dev && st.ino === i.st.ino) throw new NapoodError(o.flag, 'a path that is not one of the inputs (it would be overwritten)', `${describe(o.path)}, which is ${describe(i.p)}`);
      if (i.st?.isDirectory() && isInside(path.join(realDir, path.basename(abs)), i.real) && looksLikeNpyDump(i.p)) {
        throw new NapoodError(o.flag, 'a path outside the input dump folders (writing there changes the dump)', `${describe(o.path)}, inside ${describe(i.p)}`);
      }
    }
  }
}

/** The real path of `p` (links resolved), or `p` resolved when it does not exist (yet). */
export function realOrSelf(p: string): string {
  try { return fs.realpathSync(p); } catch { return path.resolve(p); }
}

/** Whether two paths name the same file or folder (an @list by its list file). */
export function samePath(a: string, b: string): boolean {
  return realOrSelf(a.replace(/^@/, '')) === realOrSelf(b.replace(/^@/, ''));
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function looksLikeNpyDump(dir: string): boolean {
  try { return fs.readdirSync(dir).some((f) => f.toLowerCase().endsWith('.npy')); } catch { return false; }
}

/**
 * Write every output, or none: each goes to a temporary file beside its target first; only when
 * all are written are they renamed into place (a rename does not fail for lack of space).
 */
export function writeOutputs(files: readonly { flag: string; path: string; data: Uint8Array }[]): void {
  const staged: { tmp: string; target: string; flag: string; forget: () => void }[] = [];
  try {
    for (const f of files) {
      const dir = path.dirname(path.resolve(f.path));
      const base = path.basename(f.path);
      removeStale(dir, `.${base}.`, STALE);
      const tmp = path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      const forget = removeOnExit(tmp);
      staged.push({ tmp, target: f.path, flag: f.flag, forget });
      writeDurable(tmp, f.data, f.flag);
    }
  } catch (e) {
    for (const s of staged) { try { fs.unlinkSync(s.tmp); } catch { /* gone */ } s.forget(); }
    throw e;
  }
  for (const s of staged) {
    try {
      fs.renameSync(s.tmp, s.target);
    } catch (e) {
      for (const r of staged) try { fs.unlinkSync(r.tmp); } catch { /* gone or renamed */ }
      throw new NapoodError(s.flag, 'a writable output file', `${describe(s.target)}: ${(e as Error).message}`);
    }
  }
  for (const s of staged) s.forget();
}

/** Temporary names of napood's writers (writeOutputs, io/atomic.ts): `.<name>.<pid>.<12 hex>.tmp`. */
const STALE = /^(\d+)\.[0-9a-f]{12}\.tmp$/;

function writeDurable(file: string, data: Uint8Array, flag: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'wx');
    let done = 0;
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done);
    fs.fsyncSync(fd);
  } catch (e) {
    throw new NapoodError(flag, 'a writable output file', `${describe(file)}: ${(e as Error).message}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
