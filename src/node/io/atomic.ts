/**
 * Atomic file output: write to a temporary file in the target's directory, fsync, rename over the
 * target. A reader sees either the old file or the complete new one, never a partial write; on any
 * error the temporary file is removed and the target is left as it was.
 *
 * Temporary names are `.<name>.<pid>.<random>.tmp` (git-ignored by `*.tmp`). Writers that are
 * still open when the process exits normally are removed by an 'exit' hook.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NapoodError, describe } from '../../errors.js';
import { removeStale } from './cleanup.js';

const pending = new Set<string>();
let exitHookInstalled = false;

function trackTemp(tmp: string): void {
  pending.add(tmp);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const p of pending) {
        try { fs.unlinkSync(p); } catch { /* already gone */ }
      }
    });
  }
}

function tempPathFor(target: string): string {
  // Temporaries of this target left by a killed run (their pid is gone) go first.
  removeStale(path.dirname(target), `.${path.basename(target)}.`, /^(\d+)\.[0-9a-f]{12}\.tmp$/);
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function ioError(argument: string, err: unknown): NapoodError {
  if (err instanceof NapoodError) return err;
  const e = err as NodeJS.ErrnoException;
  const what = e && typeof e === 'object' && 'message' in e ? String(e.message) : String(err);
  return new NapoodError(argument, 'a writable output file', what);
}

/** Best-effort fsync of a directory, so that the rename itself is durable. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported on every platform / filesystem */
  } finally {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* ignore */ }
  }
}

function writeAll(fd: number, data: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < data.length) {
    const pos = position === null ? null : position + done;
    done += fs.writeSync(fd, data, done, data.length - done, pos);
  }
}

/** A streamed atomic write: `write` chunks (or `writeAt` a position), then `commit()` or `abort()`. */
export interface AtomicWriter {
  /** The final path. */
  readonly path: string;
  /** The temporary path written until commit. */
  readonly tempPath: string;
  /** Bytes appended so far (`write`); `writeAt` does not move it unless it writes past the end. */
  readonly bytesWritten: number;
  /** Append a chunk. */
  write(chunk: Uint8Array): void;
  /** Overwrite bytes at `position` (e.g. a header whose size is known only at the end). */
  writeAt(chunk: Uint8Array, position: number): void;
  /** fsync, close and rename over the target. After an error the temp file is removed and the error rethrown. */
  commit(): void;
  /** Close and remove the temp file; the target is untouched. Safe to call more than once. */
  abort(): void;
}

/** Open a streamed atomic writer for `target`. `argument` names the file in error messages. */
export function openAtomicWriter(target: string, argument: string = target): AtomicWriter {
  const tmp = tempPathFor(target);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw ioError(argument, err);
  }
  trackTemp(tmp);
  let open = true;
  let done = false;
  let size = 0;

  const cleanup = (): void => {
    if (open) {
      open = false;
      try { fs.closeSync(fd); } catch { /* ignore */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* already gone */ }
    pending.delete(tmp);
    done = true;
  };
  const guard = (): void => {
    if (done) throw new NapoodError(argument, 'an open writer', 'a writer that was already committed or aborted');
  };

  return {
    path: target,
    tempPath: tmp,
    get bytesWritten() { return size; },
    write(chunk: Uint8Array): void {
      guard();
      try {
        if (!(chunk instanceof Uint8Array)) throw new NapoodError(argument, 'data chunks of bytes (Uint8Array / Buffer)', `${describe(String(chunk))}`);
        writeAll(fd, chunk, size);
        size += chunk.length;
      } catch (err) {
        cleanup();
        throw ioError(argument, err);
      }
    },
    writeAt(chunk: Uint8Array, position: number): void {
      guard();
      try {
        writeAll(fd, chunk, position);
        size = Math.max(size, position + chunk.length);
      } catch (err) {
        cleanup();
        throw ioError(argument, err);
      }
    },
    commit(): void {
      guard();
      try {
        fs.fsyncSync(fd);
        open = false;
        fs.closeSync(fd);
        fs.renameSync(tmp, target);
        pending.delete(tmp);
        done = true;
      } catch (err) {
        cleanup();
        throw ioError(argument, err);
      }
      fsyncDir(path.dirname(target));
    },
    abort(): void {
      if (!done) cleanup();
    },
  };
}

/**
 * Write `data` (one buffer or a list written in order) to `target` atomically.
 * Throws a NapoodError naming `argument` (default: the path) when the file cannot be written.
 */
export function writeFileAtomic(target: string, data: Uint8Array | readonly Uint8Array[], argument: string = target): void {
  const w = openAtomicWriter(target, argument);
  try {
    if (data instanceof Uint8Array) w.write(data);
    else for (const chunk of data) w.write(chunk);
    w.commit();
  } catch (err) {
    w.abort();
    throw ioError(argument, err);
  }
}
