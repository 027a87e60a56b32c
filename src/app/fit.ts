/**
 * Fit or load: the fitted state of every method of a run, from saved states (a state file) where
 * they hold the spec, else fitted on the ID-train source in shared streaming passes. A loaded
 * state is checked before use (each method's `checkState`: its fields, the sizes of its arrays
 * against each other, the head and the features, finite numbers): a state that does not fit is
 * a NapoodError naming `--state SPEC`, never a crash or NaN scores later.
 */
import { NapoodError } from '../errors.js';
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
  /** Validate a loaded state further (after the method's own checkState); throws to refuse. */
  readonly checkState?: (spec: MethodSpec, state: unknown) => void;
  /** Pooled feature channels C of the sets to score, when known: loaded states must have them (default: the head's C). */
  readonly channels?: number;
  /** The argument loaded states are named by in messages (default "--state"). */
  readonly stateArgument?: string;
}

/** A loaded state checked by its method: NapoodError `--state SPEC: expected …, found …`. */
export function checkLoadedState(spec: MethodSpec, state: unknown, opts: Pick<FitOptions, 'head' | 'channels' | 'stateArgument'> = {}): void {
  const problem = spec.def.checkState?.(state, { params: spec.params, head: opts.head, channels: opts.channels });
  if (problem) throw new NapoodError(`${opts.stateArgument ?? '--state'} ${spec.text}`, problem.expected, problem.found);
}

export async function fitOrLoad(specs: readonly MethodSpec[], opts: FitOptions = {}): Promise<FittedMethod[]> {
  const states = opts.states;
  const fromFile = (s: MethodSpec) => Boolean(s.def.fit && states?.has(s.text));
  // Loaded states first: a state that does not fit the run fails before any fitting.
  for (const s of specs) {
    if (!fromFile(s)) continue;
    const state = states!.get(s.text);
    checkLoadedState(s, state, opts);
    opts.checkState?.(s, state);
  }
  const missing = specs.filter((s) => !fromFile(s));
  const label = opts.label ?? 'fit';
  const progress = opts.events?.progress;
  const fitted = missing.length ? await fitMethods(missing, opts.train, opts.head, progress ? (done, total, what) => progress(done, total, `${label}: ${what}`) : undefined) : [];
  return specs.map((s) => {
    if (fromFile(s)) return { spec: s, state: states!.get(s.text) };
    return fitted.find((f) => f.spec === s) ?? { spec: s, state: undefined };
  });
}
