/**
 * Opening files that napood reads: only regular files (or symbolic links to them).
 *
 * A FIFO given where a dump is expected would block `open(2)` until some writer appears (forever,
 * for a user who typed the wrong path); a directory opens on Linux and then fails at `read(2)`
 * with EISDIR; a character device such as /dev/zero is endless. `openRegularFile` opens with
 * O_NONBLOCK (so that opening a FIFO returns at once), checks with fstat on the open descriptor
 * (no race between the check and the use) and refuses anything that is not a regular file with a
 * NapoodError naming the argument. O_NONBLOCK changes nothing for regular files.
 */
import * as fs from 'node:fs';
import { NapoodError, describe } from '../../errors.js';

/** An open regular file: its descriptor and size at the time it was opened. */
export interface RegularFile {
  readonly fd: number;
  readonly size: number;
}

/** What a non-regular file is, for error messages ("a directory", "a FIFO (named pipe)", …). */
export function fileKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function notRegular(file: string, argument: string, what: string, st: fs.Stats): NapoodError {
  return new NapoodError(argument, `${what} (a regular file)`, `${fileKind(st)}: ${describe(file)}`);
}

function openError(argument: string, what: string, err: unknown): NapoodError {
  // Node's message names the code, the call and the path: "ENOENT: no such file or directory, open 'x.npy'".
  return new NapoodError(argument, what, String((err as Error)?.message ?? err));
}

const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

/**
 * Open `file` for reading if it is a regular file (a symbolic link is followed). Throws a
 * NapoodError naming `argument`: "<argument>: expected <what> (a regular file), found a FIFO
 * (named pipe): "path"". The caller closes `fd`.
 */
export function openRegularFile(file: string, argument: string = file, what = 'a readable file'): RegularFile {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NONBLOCK);
  } catch (err) {
    throw openError(argument, what, err);
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw openError(argument, what, err);
  }
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw notRegular(file, argument, what, st);
  }
  return { fd, size: st.size };
}

/**
 * stat `file` (following symbolic links) and require a regular file; the NapoodError names
 * `argument`. For callers that read the file with an API taking a path (fs.readFileSync, sharp):
 * check first, then read. (A file swapped for a FIFO between the two calls is not caught here;
 * use openRegularFile and read from the descriptor where that matters.)
 */
export function statRegular(file: string, argument: string = file, what = 'a readable file'): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw openError(argument, what, err);
  }
  if (!st.isFile()) throw notRegular(file, argument, what, st);
  return st;
}

/**
 * Read exactly `length` bytes at `position` of an open file; fewer only where the file ends
 * (the result is then shorter). Never reads more than asked.
 */
export function readAt(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const got = fs.readSync(fd, buf, done, length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Read a whole regular file (refusing FIFOs, directories, devices) into memory. */
export function readRegularFile(file: string, argument: string = file, what = 'a readable file'): Uint8Array {
  const { fd, size } = openRegularFile(file, argument, what);
  try {
    return readAt(fd, size, 0);
  } catch (err) {
    throw openError(argument, what, err);
  } finally {
    fs.closeSync(fd);
  }
}
