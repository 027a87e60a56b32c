/**
 * Feature dumps (SPEC §4.3): a `.safetensors` file, or a directory of `.npy` files, holding some of
 *
 *   featureMap [N,C,H,W]   pooled [N,C]   logits [N,K]   labels [N]   head.weight [K,C]   head.bias [K]
 *
 * (directory: featureMap.npy, pooled.npy, …, head.weight.npy, head.bias.npy; other files are
 * ignored). Shapes are checked against each other when the dump is opened. Rows are read on demand
 * in chunks (`batches()`, ~32 MB per batch by default) through fs.readSync at file offsets, so a
 * dump larger than memory is streamed with bounded memory. Every chunk read is checked for
 * NaN / ±Inf. When `pooled` is asked for but only `featureMap` is stored, it is the spatial mean of
 * the map (float64 accumulation), as global average pooling computes it.
 *
 * Here: the dump types, `openDump` (shape checks, batches), `loadHead`, `looksLikeDump`; finding
 * the tensors, the finite check and reading a head are in dump-tensors.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NapoodError, describe, shapeString } from '../../errors.js';
import { BATCH_FIELDS, DUMP_TENSORS, type BatchField, type FeatureBatch, type LinearHead } from '../../types.js';
import { isFloatDType } from './convert.js';
import { checkFinite, locate, readHeadTensors } from './dump-tensors.js';
import { npyTensor, readNpyHeader } from './npy.js';
import { type StoredTensor, TensorReader, checkReadSize, rowCount, rowElements } from './tensor.js';
import { napWasmStagingBuffer } from '../../kernels/nap_simd.js';

export type DumpField = BatchField;

/** Where one tensor of a dump lies (file, byte offset, dtype, byte order, shape). */
export type TensorDescriptor = StoredTensor;

/** A batch of dump rows [start, start + n). */
export interface DumpBatch extends FeatureBatch {
  readonly start: number;
}

export interface BatchOptions {
  /** Fields to read (default: every field the dump has, `pooled` derived from `featureMap` if need be). */
  fields?: readonly DumpField[];
  /** Memory budget of one batch's float32 arrays, in bytes (default 32 MiB); ignored when rowsPerBatch is set. */
  maxBatchBytes?: number;
  /** Fixed number of rows per batch (the last may be shorter). */
  rowsPerBatch?: number;
  /** First row (default 0). */
  start?: number;
  /** End row, exclusive (default n). */
  end?: number;
  /**
   * Reuse the same arrays for every batch (less garbage, lower peak memory). A batch's arrays are
   * then overwritten by the next batch: copy what must be kept. Default false.
   */
  reuseBuffers?: boolean;
  /**
   * Read featureMap rows straight into the NAP kernel's WebAssembly staging buffer, where
   * `napKernel` scores them in place, without copying the map again (bench/nap_stream.ts). Every
   * batch's featureMap is then overwritten by the next batch, as with reuseBuffers. Ignored where
   * WebAssembly SIMD is missing. Default false.
   */
  stageFeatureMap?: boolean;
}

export interface Dump {
  readonly path: string;
  readonly format: 'safetensors' | 'npy-dir';
  /** Number of rows (samples). */
  readonly n: number;
  readonly tensors: ReadonlyMap<string, TensorDescriptor>;
  readonly featureMapShape?: [number, number, number, number];
  readonly channels?: number;
  readonly classes?: number;
  /** safetensors `__metadata__` (empty for a directory). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Whether the dump can give `field` ('pooled' is true when a featureMap exists: it is derived). */
  has(field: DumpField): boolean;
  /** Rows [start, start+count) of a stored tensor as float32; NaN / ±Inf throw. */
  readRows(name: string, start: number, count: number): Float32Array;
  /** Labels [start, start+count) as int32; values must be integers (−1 = unknown). */
  readLabels(start: number, count: number): Int32Array;
  /** The linear head from head.weight / head.bias (or `headPath`), undefined when the dump has none. */
  linearHead(): LinearHead | undefined;
  batches(opts?: BatchOptions): Generator<DumpBatch>;
  close(): void;
}

export interface OpenDumpOptions {
  /** The name of the argument the path came from (e.g. "--features"), for error messages. */
  argument?: string;
  /** A separate head file (.safetensors, a directory of .npy, or one weight .npy); overrides the dump's head. */
  headPath?: string;
  /** The argument the head path came from (e.g. "--head"). */
  headArgument?: string;
}

/** Default memory budget of one batch. */
export const DEFAULT_BATCH_BYTES = 32 << 20;

const ROW_FIELDS: readonly DumpField[] = BATCH_FIELDS;
const DUMP_NAMES: readonly string[] = DUMP_TENSORS;
/** Accepted names of the head's weight and bias, in order of preference. */
const HEAD_NAME_PAIRS: readonly (readonly [string, string])[] = [['head.weight', 'head.bias'], ['weight', 'bias'], ['fc.weight', 'fc.bias']];

/**
 * Load a linear head from `p`: a .safetensors file or a directory of .npy files holding
 * head.weight [K,C] and head.bias [K] (or weight / bias, or fc.weight / fc.bias), or one .npy file
 * holding the weight alone. A missing bias is zeros.
 */
export function loadHead(p: string, argument: string = p): LinearHead {
  const what = 'a classifier head: a .safetensors file or a directory of .npy files with head.weight [K,C] and head.bias [K] (or weight/bias, fc.weight/fc.bias)';
  // One .npy file (not a directory named x.npy): readNpyHeader refuses FIFOs, devices.
  if (p.endsWith('.npy') && fs.existsSync(p) && !fs.statSync(p).isDirectory()) {
    return readHeadTensors(npyTensor(readNpyHeader(p, argument), 'weight'), undefined, argument);
  }
  const names = HEAD_NAME_PAIRS.flat();
  const loc = locate(p, argument, what, names);
  for (const [wName, bName] of HEAD_NAME_PAIRS) {
    const w = loc.tensors.get(wName);
    if (w) return readHeadTensors(w, loc.tensors.get(bName), argument);
  }
  throw new NapoodError(argument, what, loc.found.length ? `only ${loc.found.map((s) => describe(s)).join(', ')}` : 'an empty file or directory');
}

class DumpImpl implements Dump {
  readonly n: number;
  readonly featureMapShape?: [number, number, number, number];
  readonly channels?: number;
  readonly classes?: number;
  private readonly reader = new TensorReader();
  private head: LinearHead | undefined | null = null;

  constructor(
    readonly path: string,
    readonly format: 'safetensors' | 'npy-dir',
    readonly tensors: ReadonlyMap<string, TensorDescriptor>,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly argument: string,
    private readonly headOverride: LinearHead | undefined,
  ) {
    const arg = argument;
    const t = (name: string): StoredTensor | undefined => tensors.get(name);
    const fm = t('featureMap'), pooled = t('pooled'), logits = t('logits'), labels = t('labels');
    const weight = t('head.weight'), bias = t('head.bias');
    const desc = (x: StoredTensor): string => `"${x.name}" ${shapeString(x.shape)}`;

    if (!fm && !pooled && !logits) {
      throw new NapoodError(arg, 'a dump holding at least one of featureMap [N,C,H,W], pooled [N,C], logits [N,K]',
        tensors.size ? `only ${[...tensors.keys()].map((s) => `"${s}"`).join(', ')}` : 'none of them');
    }
    const rank = (x: StoredTensor | undefined, r: number, form: string): void => {
      if (x && x.shape.length !== r) throw new NapoodError(arg, `"${x.name}" of shape ${form}`, shapeString(x.shape));
    };
    rank(fm, 4, '[N, C, H, W] (NCHW)');
    rank(pooled, 2, '[N, C]');
    rank(logits, 2, '[N, K]');
    rank(labels, 1, '[N]');
    rank(weight, 2, '[K, C]');
    rank(bias, 1, '[K]');
    for (const x of [fm, pooled, logits, weight, bias]) {
      if (x && !isFloatDType(x.dtype)) throw new NapoodError(arg, `"${x.name}" of a float dtype (float32, float16, bfloat16, float64)`, x.dtype);
    }
    if (bias && !weight) throw new NapoodError(arg, '"head.weight" [K, C] together with "head.bias"', 'only "head.bias"');

    // Same N for every row tensor.
    const rowTensors = [fm, pooled, logits, labels].filter((x): x is StoredTensor => x !== undefined);
    const n = rowTensors[0].shape[0];
    for (const x of rowTensors) {
      if (x.shape[0] !== n) {
        throw new NapoodError(arg, `the same number of rows N in every tensor (${desc(rowTensors[0])})`, desc(x));
      }
    }
    if (n === 0) throw new NapoodError(arg, 'a dump with at least one row', `N = 0 (${rowTensors.map(desc).join(', ')})`);
    this.n = n;
    // Rows are read into one typed array each: a row over 2 GiB (a corrupt or hostile header,
    // e.g. featureMap [1, 100000, 100000, 1]) is refused here, before any read.
    for (const x of rowTensors) checkReadSize(x, 1, arg);

    if (fm) {
      const [, c, h, w] = fm.shape;
      if (c === 0 || h === 0 || w === 0) throw new NapoodError(arg, '"featureMap" [N, C, H, W] with C, H, W > 0', shapeString(fm.shape));
      this.featureMapShape = [n, c, h, w];
    }
    if (fm && pooled && pooled.shape[1] !== fm.shape[1]) {
      throw new NapoodError(arg, `"pooled" [N, C] with the C of ${desc(fm)}`, desc(pooled));
    }
    this.channels = fm ? fm.shape[1] : pooled ? pooled.shape[1] : undefined;
    this.classes = logits ? logits.shape[1] : undefined;

    const checkHead = (k: number, c: number, what: string): void => {
      if (this.channels !== undefined && c !== this.channels) {
        throw new NapoodError(arg, `${what} with C = ${this.channels} (${desc((fm ?? pooled)!)})`, `C = ${c}`);
      }
      if (this.classes !== undefined && k !== this.classes) {
        throw new NapoodError(arg, `${what} with K = ${this.classes} (${desc(logits!)})`, `K = ${k}`);
      }
    };
    if (weight) {
      checkHead(weight.shape[0], weight.shape[1], `"head.weight" ${shapeString(weight.shape)}`);
      if (bias && bias.shape[0] !== weight.shape[0]) {
        throw new NapoodError(arg, `"head.bias" of shape [${weight.shape[0]}] (K of ${desc(weight)})`, shapeString(bias.shape));
      }
    }
    if (headOverride) checkHead(headOverride.k, headOverride.c, `the head [K, C] = [${headOverride.k}, ${headOverride.c}]`);
    const headShape = headOverride ? [headOverride.k, headOverride.c] : weight?.shape;
    if (headShape) {
      this.classes ??= headShape[0];
      this.channels ??= headShape[1];
    }
  }

  has(field: DumpField): boolean {
    if (field === 'pooled') return this.tensors.has('pooled') || this.tensors.has('featureMap');
    return this.tensors.has(field);
  }

  private tensor(name: string): StoredTensor {
    const t = this.tensors.get(name);
    if (!t) throw new NapoodError(this.argument, `a dump holding "${name}"`, `only ${[...this.tensors.keys()].map((s) => `"${s}"`).join(', ')}`);
    return t;
  }

  readRows(name: string, start: number, count: number): Float32Array {
    return this.readRowsInto(name, start, count);
  }

  /** readRows into `pool[name]` (grown as needed) when a pool is given. */
  private readRowsInto(name: string, start: number, count: number, pool?: Map<string, Float32Array>): Float32Array {
    const t = this.tensor(name);
    const rowElems = rowElements(t);
    checkReadSize(t, count, this.argument, 4, 'ask for fewer rows per batch');
    let out: Float32Array | undefined;
    if (pool) {
      const have = pool.get(name);
      out = have && have.length >= count * rowElems ? have : new Float32Array(count * rowElems);
      pool.set(name, out);
      out = out.subarray(0, count * rowElems);
    }
    const data = this.reader.readFloat32(t, start, count, out);
    checkFinite(data, t, start, this.reader, this.argument, this.path);
    return data;
  }

  private readStaged(start: number, count: number, out: Float32Array): Float32Array {
    const t = this.tensor('featureMap');
    const data = this.reader.readFloat32(t, start, count, out);
    checkFinite(data, t, start, this.reader, this.argument, this.path);
    return data;
  }

  readLabels(start: number, count: number): Int32Array {
    const t = this.tensor('labels');
    const v = this.reader.readFloat64(t, start, count);
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const x = v[i];
      if (!Number.isInteger(x) || x < -1 || x > 0x7fffffff) {
        throw new NapoodError(this.argument, `integer class labels ≥ −1 in tensor "labels" of ${this.path}`, `${x} at row ${start + i}`);
      }
      out[i] = x;
    }
    return out;
  }

  linearHead(): LinearHead | undefined {
    if (this.head === null) {
      if (this.headOverride) this.head = this.headOverride;
      else {
        const w = this.tensors.get('head.weight');
        this.head = w ? readHeadTensors(w, this.tensors.get('head.bias'), this.argument) : undefined;
      }
    }
    return this.head;
  }

  *batches(opts: BatchOptions = {}): Generator<DumpBatch> {
    const arg = this.argument;
    const fields = opts.fields ?? ROW_FIELDS.filter((f) => this.has(f));
    for (const f of fields) {
      if (!ROW_FIELDS.includes(f)) throw new NapoodError(arg, `fields among ${ROW_FIELDS.join(', ')}`, describe(String(f)));
      if (!this.has(f)) {
        throw new NapoodError(arg, `a dump holding "${f}"${f === 'pooled' ? ' (or a "featureMap" to pool)' : ''}`,
          `only ${[...this.tensors.keys()].map((s) => `"${s}"`).join(', ')}`);
      }
    }
    const want = new Set(fields);
    const derivePooled = want.has('pooled') && !this.tensors.has('pooled');
    const readMap = want.has('featureMap') || derivePooled;
    const start = opts.start ?? 0;
    const end = opts.end ?? this.n;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.n || start > end) {
      throw new NapoodError(arg, `a row range within [0, ${this.n}]`, `start ${start}, end ${end}`);
    }

    // float32 bytes per row of everything held in memory at once.
    const shape = this.featureMapShape;
    const mapRow = shape ? shape[1] * shape[2] * shape[3] : 0;
    let rowBytes = 0;
    if (readMap) rowBytes += mapRow * 4;
    if (want.has('pooled')) rowBytes += (this.channels ?? 0) * 4;
    if (want.has('logits')) rowBytes += this.tensor('logits').shape[1] * 4;
    if (want.has('labels')) rowBytes += 4;
    let rows: number;
    if (opts.rowsPerBatch !== undefined) {
      if (!Number.isInteger(opts.rowsPerBatch) || opts.rowsPerBatch < 1) throw new NapoodError(arg, 'rowsPerBatch a positive integer', String(opts.rowsPerBatch));
      rows = opts.rowsPerBatch;
    } else {
      const budget = opts.maxBatchBytes ?? DEFAULT_BATCH_BYTES;
      if (!(budget > 0)) throw new NapoodError(arg, 'maxBatchBytes > 0', String(budget));
      rows = Math.max(1, Math.floor(budget / Math.max(rowBytes, 1)));
    }

    if (readMap && shape) checkReadSize(this.tensor('featureMap'), Math.min(rows, end - start), arg, 4, 'ask for fewer rows per batch');
    const pool = opts.reuseBuffers ? new Map<string, Float32Array>() : undefined;
    const staged = opts.stageFeatureMap && readMap && shape ? napWasmStagingBuffer(Math.min(rows, end - start) * mapRow) : null;
    for (let s = start; s < end; s += rows) {
      const count = Math.min(rows, end - s);
      let featureMap: DumpBatch['featureMap'];
      let pooled: DumpBatch['pooled'];
      let logits: DumpBatch['logits'];
      let labels: Int32Array | undefined;
      if (readMap && shape) {
        const map = staged ? this.readStaged(s, count, staged.subarray(0, count * mapRow)) : this.readRowsInto('featureMap', s, count, pool);
        const [, c, h, w] = shape;
        if (want.has('featureMap')) featureMap = { data: map, c, h, w };
        if (derivePooled) {
          let buf = pool?.get('pooled');
          if (pool && (!buf || buf.length < count * c)) pool.set('pooled', (buf = new Float32Array(count * c)));
          pooled = { data: spatialMean(map, count, c, h * w, buf?.subarray(0, count * c)), c };
        }
      }
      if (want.has('pooled') && !derivePooled) {
        const t = this.tensor('pooled');
        pooled = { data: this.readRowsInto('pooled', s, count, pool), c: t.shape[1] };
      }
      if (want.has('logits')) logits = { data: this.readRowsInto('logits', s, count, pool), k: this.tensor('logits').shape[1] };
      if (want.has('labels')) labels = this.readLabels(s, count);
      yield { start: s, n: count, featureMap, pooled, logits, labels };
    }
  }

  close(): void {
    this.reader.close();
  }
}

import { spatialMean } from '../../math/spatial.js';
export { spatialMean };

/**
 * Open the feature dump at `p` (a .safetensors file or a directory of .npy files), check its
 * shapes, and return a handle that reads rows on demand. Nothing but headers is read here.
 */
export function openDump(p: string, opts: OpenDumpOptions = {}): Dump {
  const argument = opts.argument ?? p;
  const loc = locate(p, argument, 'a feature dump: a .safetensors file or a directory of .npy files (featureMap, pooled, logits, labels, head.weight, head.bias)', DUMP_NAMES);
  const head = opts.headPath !== undefined ? loadHead(opts.headPath, opts.headArgument ?? opts.headPath) : undefined;
  return new DumpImpl(p, loc.format, loc.tensors, loc.metadata, argument, head);
}

/**
 * True when `p` is a feature dump rather than model input: a `.safetensors` file, or a directory
 * holding featureMap.npy, pooled.npy or logits.npy (a folder of images holds none of those).
 * Used where a set may be either (sets with `--model`).
 */
export function looksLikeDump(p: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return p.toLowerCase().endsWith('.safetensors');
  }
  if (st.isFile()) return p.toLowerCase().endsWith('.safetensors');
  if (!st.isDirectory()) return false;
  return ['featureMap', 'pooled', 'logits'].some((name) => fs.existsSync(path.join(p, `${name}.npy`)));
}

/** Number of rows of a stored tensor (re-exported for callers that hold descriptors). */
export { rowCount };
