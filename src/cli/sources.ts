/** Feature dumps as pipeline batch sources, and the head a run uses. */
import { linearHead } from '../methods/common.js';
import { openDump, loadHead, type Dump } from '../node/io/dump.js';
import type { BatchSource, Field } from '../run/pipeline.js';
import type { Head, LinearHead } from '../types.js';
import { NapoodError } from '../errors.js';

export interface OpenedSource extends BatchSource {
  readonly dump: Dump;
}

export function openDumpSource(path: string, argument: string, rowsPerBatch?: number): OpenedSource {
  const dump = openDump(path, { argument });
  const paths = imagePaths(dump);
  return {
    label: `${argument} ${path}`,
    n: dump.n,
    dump,
    has: (field: Field) => dump.has(field),
    // The pipeline uses a batch before asking for the next: the feature map can be read straight
    // into the NAP kernel's staging buffer (no second copy of the map).
    batches: paths
      ? function* (fields: readonly Field[]) {
        for (const b of dump.batches({ fields: [...fields], rowsPerBatch, stageFeatureMap: true })) yield { ...b, paths: paths.slice(b.start, b.start + b.n) };
      }
      : (fields: readonly Field[]) => dump.batches({ fields: [...fields], rowsPerBatch, stageFeatureMap: true }),
  };
}

/** The image path of every row, when the dump was made from images by `napood dump` (metadata "paths"). */
function imagePaths(dump: Dump): string[] | undefined {
  const text = dump.metadata.paths;
  if (text === undefined) return undefined;
  try {
    const paths: unknown = JSON.parse(text);
    return Array.isArray(paths) && paths.length === dump.n && paths.every((p) => typeof p === 'string') ? paths as string[] : undefined;
  } catch {
    return undefined;
  }
}

export function headFrom(linear: LinearHead | undefined): Head | undefined {
  return linear ? linearHead(linear.weight, linear.bias, linear.k, linear.c) : undefined;
}

/** The head for a run: --head FILE, else the first dump that holds head.weight. */
export function resolveHead(headPath: string | undefined, sources: readonly (OpenedSource | undefined)[]): Head | undefined {
  if (headPath) return headFrom(loadHead(headPath, '--head'));
  for (const s of sources) {
    const h = s?.dump.linearHead();
    if (h) return headFrom(h);
  }
  return undefined;
}

/** Every source must agree on C (and K where known) with the head and with each other. */
export function checkCompatible(head: Head | undefined, sources: readonly (OpenedSource | undefined)[]): void {
  let ref: { c?: number; k?: number; label: string } | undefined = head ? { c: head.c, k: head.k, label: 'the head' } : undefined;
  for (const s of sources) {
    if (!s) continue;
    const c = s.dump.channels;
    const k = s.dump.classes;
    if (!ref) { ref = { c, k, label: s.label }; continue; }
    if (ref.c !== undefined && c !== undefined && ref.c !== c) throw new NapoodError(s.label, `${ref.c} feature channels (as ${ref.label})`, `${c}`);
    if (ref.k !== undefined && k !== undefined && ref.k !== k) throw new NapoodError(s.label, `${ref.k} classes (as ${ref.label})`, `${k}`);
    ref = { c: ref.c ?? c, k: ref.k ?? k, label: ref.label };
  }
}
