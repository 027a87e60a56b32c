/**
 * What the dense linear-algebra kernels share: the operand type (row-major Float32 or Float64),
 * float64 machine epsilon and the checks on square and finite arguments.
 */
import { NapoodError, describe } from '../errors.js';

export type Numeric = Float32Array | Float64Array;

export const EPS = 2.220446049250313e-16; // float64 machine epsilon, numpy.finfo(float64).eps

export function checkSquare(argument: string, a: Numeric, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new NapoodError(`${argument} size`, 'a non-negative integer', describe(n));
  if (a.length !== n * n) {
    throw new NapoodError(argument, `a ${n}×${n} row-major matrix (${n * n} values)`, `${a.length} values`);
  }
}

export function checkFinite(argument: string, a: Numeric): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) throw new NapoodError(argument, 'finite values', `${v} at index ${i}`);
  }
}
