/**
 * Temporary files never outlive a run: paths registered here are removed when the process exits
 * — normally, on an error, or on SIGINT / SIGTERM / SIGHUP (the CLI turns those into an exit),
 * and temporaries that a killed run could not remove (SIGKILL, a crash) are removed by the next
 * run that writes the same output: their names carry the pid of the process that made them, and
 * a name whose process is gone is stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const registered = new Set<string>();
let installed = false;

function removePath(p: string): void {
  try { fs.rmSync(p, { recursive: true, force: true }); } catch { /* best effort */ }
}

/** Remove `p` (a file or a folder) when the process exits; returns the function that forgets it. */
export function removeOnExit(p: string): () => void {
  registered.add(p);
  if (!installed) {
    installed = true;
    process.on('exit', () => { for (const q of registered) removePath(q); });
  }
  return () => { registered.delete(p); };
}

/** Make SIGINT, SIGTERM and SIGHUP end the process through 'exit' (so the hooks above run). */
export function exitOnSignals(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => process.exit(code));
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove stale temporaries in `dir`: names that are `prefix` then a match of `rest`, whose first
 * group is the pid of the process that made them (e.g. `.out.safetensors.` + `1234-lq3x.0.part`).
 * Only napood's own temporary names match, never a user's file.
 */
export function removeStale(dir: string, prefix: string, rest: RegExp): number {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return 0; }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = rest.exec(name.slice(prefix.length));
    if (!m) continue;
    if (!alive(Number(m[1]))) {
      removePath(path.join(dir, name));
      removed++;
    }
  }
  return removed;
}
