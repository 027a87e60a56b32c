/**
 * Checks of fitted states read from a file (MethodDefinition.checkState): a state file can hold
 * anything, so each fitted method says, before any scoring, whether a state has the fields it
 * reads, typed arrays of the sizes its kernels index (rows × C, C × C, K × C, …), sizes that
 * fit the head and the features of the run, and finite numbers. Each check returns the first
 * problem as {expected, found}; the caller (app/fit.ts) names the `--state` spec.
 */
import type { StateCheckContext, StateProblem } from '../types.js';

type TypedCtor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;

const TYPE_NAMES = new Map<TypedCtor, string>([[Float32Array, 'float32'], [Float64Array, 'float64'], [Int32Array, 'int32'], [Uint8Array, 'uint8']]);

function what(v: unknown): string {
  if (v === undefined) return 'none';
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name} of ${(v as unknown as ArrayLike<number>).length} values`;
  if (Array.isArray(v)) return `a JSON array of ${v.length} values`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}

/** A builder of checks over one state object: the first problem wins. */
export class StateChecker {
  problem: StateProblem | undefined;
  private readonly obj: Record<string, unknown>;

  constructor(readonly method: string, state: unknown) {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      this.problem = { expected: `a fitted ${method} state (an object)`, found: what(state) };
      this.obj = {};
    } else {
      this.obj = state as Record<string, unknown>;
    }
  }

  fail(expected: string, found: string): this {
    this.problem ??= { expected, found };
    return this;
  }

  /** A field that must be an integer in [min, max]. Returns it (NaN when the check failed). */
  integer(field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.obj[field];
    if (this.problem) return NaN;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(`"${field}": an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '…' : max}]`, what(v));
      return NaN;
    }
    return v;
  }

  /** A field that must be a finite number. */
  finite(field: string): number {
    const v = this.obj[field];
    if (this.problem) return NaN;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.fail(`"${field}": a finite number`, what(v));
      return NaN;
    }
    return v;
  }

  /** An optional numeric field that, when present, must equal `want` (e.g. the percentile fitted at). */
  optionalEquals(field: string, want: number, why: string): this {
    const v = this.obj[field];
    if (!this.problem && v !== undefined && v !== want) this.fail(`"${field}" ${want} (${why})`, what(v));
    return this;
  }

  /**
   * A field that must be a typed array of `ctor` with `length` values (described by `shape`,
   * e.g. "rows × C = 500 × 64"), all finite when `finite`.
   */
  typed<T extends TypedCtor>(field: string, ctor: T, length: number, shape: string, finite = true): InstanceType<T> | undefined {
    const v = this.obj[field];
    if (this.problem) return undefined;
    const name = TYPE_NAMES.get(ctor)!;
    if (!(v instanceof ctor)) {
      this.fail(`"${field}": a ${name} array of ${shape} values`, what(v));
      return undefined;
    }
    const arr = v as InstanceType<T>;
    if (arr.length !== length) {
      this.fail(`"${field}": ${shape} = ${length} ${name} values`, `${arr.length}`);
      return undefined;
    }
    if (finite) {
      for (let i = 0; i < arr.length; i++) {
        if (!Number.isFinite(arr[i])) {
          this.fail(`"${field}": finite values`, `${arr[i]} at index ${i}`);
          return undefined;
        }
      }
    }
    return arr;
  }

  /** The state's C must be the run's (the features', else the head's). */
  channels(c: number, ctx: StateCheckContext): this {
    if (this.problem || Number.isNaN(c)) return this;
    const run = ctx.channels ?? ctx.head?.c;
    if (run !== undefined && run !== c) {
      this.fail(`a state fitted on pooled features of ${run} channels (the ${ctx.channels !== undefined ? 'features\'' : 'head\'s'} C)`, `a state of ${c} channels`);
    }
    return this;
  }
}
