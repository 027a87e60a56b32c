/**
 * Opening the files a set names, safely: only regular files are ever opened (a FIFO named
 * `x.png` would block a read forever, a device could be endless), checked with stat before the
 * open and again on the open handle (the open itself is non-blocking, so a file swapped for a
 * FIFO in between cannot hang it), and every failure put in words: a dangling symbolic link, a
 * link loop, a folder, permission denied.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat, type FileHandle } from 'node:fs/promises';

import { fileKind } from '../io/file.js';
export { fileKind };

/** Why a path cannot be opened, from a stat or open error (symbolic links told apart). */
export async function openFailure(path: string, e: unknown): Promise<string> {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    const link = await lstat(path).catch(() => undefined);
    return link?.isSymbolicLink() ? 'a dangling symbolic link (its target does not exist)' : 'no such file';
  }
  if (code === 'ELOOP') return 'a symbolic link loop (ELOOP)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'ENOTDIR') return 'no such file (a part of the path is not a folder)';
  if (code === 'ENAMETOOLONG') return 'a path too long for the system (ENAMETOOLONG)';
  if (code) return `cannot read the file (${code})`;
  return String((e as Error)?.message ?? e).trim().replace(/\s+/g, ' ');
}

/** A failure to open a file: `reason` is the words for messages. */
export class OpenFailure extends Error {
  constructor(readonly reason: string, readonly stats?: Stats) {
    super(reason);
    this.name = 'OpenFailure';
  }
}

const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Open a regular file for reading, never anything else: stat first (symbolic links followed),
 * then a non-blocking open, then fstat on the handle. Throws OpenFailure with the reason (and
 * the stats, for a path that exists but is not a regular file).
 */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  let s: Stats;
  try {
    s = await stat(path);
  } catch (e) {
    throw new OpenFailure(await openFailure(path, e));
  }
  if (!s.isFile()) throw new OpenFailure(`not a regular file: ${fileKind(s)}`, s);
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (e) {
    throw new OpenFailure(await openFailure(path, e));
  }
  try {
    const t = await handle.stat();
    if (!t.isFile()) throw new OpenFailure(`not a regular file: ${fileKind(t)}`, t);
    return { handle, size: t.size };
  } catch (e) {
    await handle.close().catch(() => {});
    throw e instanceof OpenFailure ? e : new OpenFailure(await openFailure(path, e));
  }
}

/**
 * Read up to `length` bytes at `position` into `buf` at `offset`; fewer only at the end of the
 * file (a file that shrank since its stat). Returns the bytes read.
 */
export async function readFully(handle: FileHandle, buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
