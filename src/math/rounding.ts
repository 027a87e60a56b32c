/** Round to the nearest integer, halves to even (Python's `round`, numpy's `rint`): the one copy napood uses. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  // numpy keeps the sign of zero: rint(-0.4) = rint(-0.5) = -0.
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}
