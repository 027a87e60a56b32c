/** Spatial mean of an n×c×hw map, n×c (float64 accumulation): global average pooling. */
export function spatialMean(map: Float32Array, n: number, c: number, hw: number, out: Float32Array = new Float32Array(n * c)): Float32Array {
  for (let r = 0, base = 0; r < n * c; r++, base += hw) {
    let s = 0;
    for (let j = base, e = base + hw; j < e; j++) s += map[j];
    out[r] = s / hw;
  }
  return out;
}
