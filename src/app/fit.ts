/**
 * Fit or load: the fitted state of every method of a run, from saved states (a state file) where
 * they hold the spec, else fitted on the ID-train source in shared streaming passes.
 */
import type { BatchSource, FittedMethod } from '../run/pipeline.js';
import { fitMethods } from '../run/pipeline.js';
import type { MethodSpec } from '../run/spec.js';
import type { Head, NapoodEvents } from '../types.js';

export interface FitOptions {
  /** The ID-train source, for methods whose state is not in `states`. */
  readonly train?: BatchSource;
  readonly head?: Head;
  /** Saved states by normalised spec text (parseStateFile). */
  readonly states?: ReadonlyMap<string, unknown>;
  readonly events?: NapoodEvents;
  /** Name of the progress phase (default "fit"). */
  readonly label?: string;
  /** Validate a loaded state against the run (e.g. that its sizes fit the head); throws to refuse. */
  readonly checkState?: (spec: MethodSpec, state: unknown) => void;
}

export async function fitOrLoad(specs: readonly MethodSpec[], opts: FitOptions = {}): Promise<FittedMethod[]> {
  const states = opts.states;
  const fromFile = (s: MethodSpec) => Boolean(s.def.fit && states?.has(s.text));
  const missing = specs.filter((s) => !fromFile(s));
  const label = opts.label ?? 'fit';
  const progress = opts.events?.progress;
  const fitted = missing.length ? await fitMethods(missing, opts.train, opts.head, progress ? (done, total, what) => progress(done, total, `${label}: ${what}`) : undefined) : [];
  return specs.map((s) => {
    if (fromFile(s)) {
      const state = states!.get(s.text);
      opts.checkState?.(s, state);
      return { spec: s, state };
    }
    return fitted.find((f) => f.spec === s) ?? { spec: s, state: undefined };
  });
}
