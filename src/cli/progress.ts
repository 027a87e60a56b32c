/**
 * A progress line on stderr for long runs: only when stderr is a TTY (never in pipes, logs or CI),
 * redrawn at most every 200 ms, cleared when done. Never touches stdout.
 */
import type { Progress } from '../run/pipeline.js';

export interface ProgressLine {
  readonly update: (label: string) => Progress;
  readonly done: () => void;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr, enabled = Boolean(stream.isTTY)): ProgressLine {
  let last = 0;
  let shown = false;
  return {
    update: (label) => (done, total, what) => {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 200 && done < total) return;
      last = now;
      const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '100.0';
      stream.write(`\r\x1b[K${label}: ${what} ${done}/${total} (${pct}%)`);
      shown = true;
    },
    done: () => {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
