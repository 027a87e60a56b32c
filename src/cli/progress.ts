/**
 * A progress line on stderr for long runs: only when stderr is a TTY (never in pipes, logs or CI),
 * redrawn at most every 200 ms, cleared when done. Never touches stdout. Shows, per phase, a bar,
 * the rows done, the rate and the time left (from the rate since the phase began).
 */
import type { Progress } from '../run/pipeline.js';

export interface ProgressLine {
  readonly update: (label: string) => Progress;
  readonly done: () => void;
}

/** "1:05" / "12s" for a duration in seconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** The text of one progress line (pure, for tests): bar, counts, percent, rate and ETA. */
export function progressText(label: string, what: string, done: number, total: number, elapsedS: number, width = 20): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  const eta = rate > 0 ? (total - done) / rate : NaN;
  const rateText = rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
  return `${label ? `${label}: ` : ''}${what} ${bar} ${done}/${total} (${(100 * frac).toFixed(1)}%) ${rateText}/s ETA ${done >= total ? '0s' : formatDuration(eta)}`;
}

export function progressLine(stream: NodeJS.WriteStream = process.stderr, enabled = Boolean(stream.isTTY)): ProgressLine {
  let last = 0;
  let shown = false;
  let phase = '';
  let started = 0;
  return {
    update: (label) => (done, total, what) => {
      if (!enabled) return;
      const now = Date.now();
      const key = `${label}\u0000${what}`;
      if (key !== phase || done === 0) { phase = key; started = now; }
      if (now - last < 200 && done < total) return;
      last = now;
      const columns = stream.columns ?? 120;
      const line = progressText(label, what, done, total, (now - started) / 1000);
      stream.write(`\r\x1b[K${line.length > columns - 1 ? line.slice(0, columns - 2) + '…' : line}`);
      shown = true;
    },
    done: () => {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
