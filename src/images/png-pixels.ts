/**
 * The pixel steps of the PNG decoder (png.ts): undoing the five PNG filters in place, and turning
 * the unfiltered rows into 8-bit grey or RGB (grey at 1/2/4 bits scaled to 0..255, 16 bits keep
 * the high byte, alpha dropped, palette indices expanded). Hand-written for speed: the Paeth
 * predictor has no branches (its choice is data-dependent, branches mispredict) and rows of 1, 3
 * and 4 bytes per pixel keep left and up-left in locals.
 */

/** Samples per pixel by colour type. */
export const SAMPLES: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Undo the PNG filters in place; rows start at y·(rowBytes + 1) with their filter byte. */
export function unfilter(d: Uint8Array, rowBytes: number, height: number, bpp: number): boolean {
  const stride = rowBytes + 1;
  for (let y = 0; y < height; y++) {
    const f = d[y * stride]!;
    const o = y * stride + 1;
    const end = o + rowBytes;
    const p = o - stride; // previous row (only read when y > 0)
    switch (f) {
      case 0:
        break;
      case 1:
        for (let i = o + bpp; i < end; i++) d[i] = (d[i]! + d[i - bpp]!) & 255;
        break;
      case 2:
        if (y === 0) break;
        for (let i = o, j = p; i < end; i++, j++) d[i] = (d[i]! + d[j]!) & 255;
        break;
      case 3:
        if (y === 0) {
          for (let i = o + bpp; i < end; i++) d[i] = (d[i]! + (d[i - bpp]! >> 1)) & 255;
        } else {
          const first = o + bpp;
          for (let i = o, j = p; i < first && i < end; i++, j++) d[i] = (d[i]! + (d[j]! >> 1)) & 255;
          for (let i = first, j = p + bpp; i < end; i++, j++) d[i] = (d[i]! + ((d[i - bpp]! + d[j]!) >> 1)) & 255;
        }
        break;
      case 4:
        if (y === 0) {
          // Paeth with no previous row is Sub.
          for (let i = o + bpp; i < end; i++) d[i] = (d[i]! + d[i - bpp]!) & 255;
        } else if (bpp === 3) {
          paeth3(d, o, p, end);
        } else if (bpp === 4) {
          paeth4(d, o, p, end);
        } else if (bpp === 1) {
          paeth1(d, o, p, end);
        } else {
          const first = o + bpp;
          for (let i = o, j = p; i < first && i < end; i++, j++) d[i] = (d[i]! + d[j]!) & 255;
          for (let i = first, j = p + bpp; i < end; i++, j++) d[i] = (d[i]! + paeth(d[i - bpp]!, d[j]!, d[j - bpp]!)) & 255;
        }
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * The Paeth predictor without branches (the choice is data-dependent: branches mispredict):
 * a (left), b (up), c (up-left), all 0..255.
 */
function paeth(a: number, b: number, c: number): number {
  let pa = b - c;
  let pb = a - c;
  let pc = pa + pb;
  pa = (pa ^ (pa >> 31)) - (pa >> 31);
  pb = (pb ^ (pb >> 31)) - (pb >> 31);
  pc = (pc ^ (pc >> 31)) - (pc >> 31);
  const notA = ((pb - pa) | (pc - pa)) >> 31; // −1 unless pa ≤ pb and pa ≤ pc
  const useC = (pc - pb) >> 31; // −1 when pc < pb
  return (a & ~notA) | (((b & ~useC) | (c & useC)) & notA);
}

// Paeth rows for 1, 3 and 4 bytes per pixel, left and up-left kept in locals.
function paeth1(d: Uint8Array, o: number, p: number, end: number): void {
  let a = 0;
  let c = 0;
  for (let i = o, j = p; i < end; i++, j++) {
    const b = d[j]!;
    a = (d[i]! + paeth(a, b, c)) & 255;
    d[i] = a;
    c = b;
  }
}

function paeth3(d: Uint8Array, o: number, p: number, end: number): void {
  let a0 = 0, a1 = 0, a2 = 0, c0 = 0, c1 = 0, c2 = 0;
  for (let i = o, j = p; i < end; i += 3, j += 3) {
    const b0 = d[j]!, b1 = d[j + 1]!, b2 = d[j + 2]!;
    a0 = (d[i]! + paeth(a0, b0, c0)) & 255;
    a1 = (d[i + 1]! + paeth(a1, b1, c1)) & 255;
    a2 = (d[i + 2]! + paeth(a2, b2, c2)) & 255;
    d[i] = a0;
    d[i + 1] = a1;
    d[i + 2] = a2;
    c0 = b0;
    c1 = b1;
    c2 = b2;
  }
}

function paeth4(d: Uint8Array, o: number, p: number, end: number): void {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
  for (let i = o, j = p; i < end; i += 4, j += 4) {
    const b0 = d[j]!, b1 = d[j + 1]!, b2 = d[j + 2]!, b3 = d[j + 3]!;
    a0 = (d[i]! + paeth(a0, b0, c0)) & 255;
    a1 = (d[i + 1]! + paeth(a1, b1, c1)) & 255;
    a2 = (d[i + 2]! + paeth(a2, b2, c2)) & 255;
    a3 = (d[i + 3]! + paeth(a3, b3, c3)) & 255;
    d[i] = a0;
    d[i + 1] = a1;
    d[i + 2] = a2;
    d[i + 3] = a3;
    c0 = b0;
    c1 = b1;
    c2 = b2;
    c3 = b3;
  }
}

/** Unfiltered rows of colour types 0, 2, 4, 6 to 1 (grey) or 3 (colour) 8-bit channels. */
export function convertRows(d: Uint8Array, stride: number, width: number, height: number, colorType: number, depth: number, out: Uint8Array): void {
  if (depth < 8) {
    // Grey at 1, 2 or 4 bits, scaled to 0..255.
    const scale = depth === 1 ? 255 : depth === 2 ? 85 : 17;
    const mask = (1 << depth) - 1;
    for (let y = 0, q = 0; y < height; y++) {
      const o = y * stride + 1;
      for (let x = 0; x < width; x++) {
        const bit = x * depth;
        out[q++] = ((d[o + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask) * scale;
      }
    }
    return;
  }
  const bytesPerSample = depth >> 3;
  const samples = SAMPLES[colorType]!;
  if (bytesPerSample === 1 && (colorType === 0 || colorType === 2)) {
    const n = width * samples;
    for (let y = 0; y < height; y++) out.set(d.subarray(y * stride + 1, y * stride + 1 + n), y * n);
    return;
  }
  const step = samples * bytesPerSample;
  const keep = colorType === 4 || colorType === 0 ? 1 : 3;
  for (let y = 0, q = 0; y < height; y++) {
    let i = y * stride + 1;
    const end = i + width * step;
    if (keep === 1) {
      for (; i < end; i += step) out[q++] = d[i]!;
    } else if (bytesPerSample === 1) {
      for (; i < end; i += step) {
        out[q] = d[i]!;
        out[q + 1] = d[i + 1]!;
        out[q + 2] = d[i + 2]!;
        q += 3;
      }
    } else {
      // 16 bits, big-endian: the high byte of R, G, B.
      for (; i < end; i += step) {
        out[q] = d[i]!;
        out[q + 1] = d[i + 2]!;
        out[q + 2] = d[i + 4]!;
        q += 3;
      }
    }
  }
}

/** Palette indices (1/2/4/8 bits) to RGB; false when an index is past the end of PLTE. */
export function expandPalette(d: Uint8Array, stride: number, width: number, height: number, depth: number, plte: Uint8Array, out: Uint8Array): boolean {
  const entries = plte.length / 3;
  let maxIndex = 0;
  const mask = (1 << depth) - 1;
  for (let y = 0, q = 0; y < height; y++) {
    const o = y * stride + 1;
    for (let x = 0; x < width; x++) {
      let k: number;
      if (depth === 8) {
        k = d[o + x]!;
      } else {
        const bit = x * depth;
        k = (d[o + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask;
      }
      if (k > maxIndex) maxIndex = k;
      const s = k * 3;
      out[q] = plte[s]!;
      out[q + 1] = plte[s + 1]!;
      out[q + 2] = plte[s + 2]!;
      q += 3;
    }
  }
  return maxIndex < entries;
}
