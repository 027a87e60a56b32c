/**
 * The detector file: everything `napood check` needs to say ID or OOD for new inputs, in one
 * safetensors file (https://github.com/huggingface/safetensors: u64 LE header length N, N bytes
 * of JSON, the data buffer; the header padded with spaces to a multiple of 8).
 *
 * Tensors: `calibration.scores` (F64 [n], the calibration scores sorted ascending) and every typed
 * array of the fitted state as `state/<field path>` (F32 / F64 / I32 / U8, 1-D).
 * `__metadata__` (strings, as safetensors requires):
 *   format   "napood-detector"
 *   version  "1" (DETECTOR_VERSION; a file of a newer version is refused by name)
 *   detector the JSON of the detector: format version, napood version, the model (file name,
 *            sha256 of the ONNX file, input name / dims / layout, feature map / pooled / logits
 *            tensor names), the feature sizes, the class names, the preprocessing, the method
 *            spec with its parameters, the fitted state's non-tensor fields (tensors as
 *            {"$tensor": name}, non-finite numbers as {"$number": "NaN"}), who chose the method
 *            (`method.chosen_by`: "tune", with the tune report, or "user": fixed by the user,
 *            `napood calibrate`, no tune report), the threshold and calibration summary, the tune
 *            report, and the tensor table (dtype, shape, offsets)
 *   sha256   SHA-256 (hex) of the UTF-8 bytes of `detector` followed by the data buffer
 * The checksum detects truncation, damage and edits of the payload (not tampering by someone who
 * recomputes it: it is no signature). Everything in the file is still checked as untrusted input.
 *
 * Runtime-neutral: bytes in, bytes out; SHA-256 through WebCrypto (globalThis.crypto.subtle,
 * Node ≥ 20 and browsers).
 */
import { NapoodError, describe, jsonSyntaxError } from '../errors.js';
import { parsePreprocess, type Preprocess } from '../images/preprocess.js';
import type { FittedMethod } from '../run/pipeline.js';
import { parseMethodSpec } from '../run/spec.js';
import type { Layout } from '../types.js';
import { VERSION } from '../version.js';
import { alphaOfTpr, calibrationSummary, orderIndex, tprLowerBound, TPR_BOUND_DELTA, type Calibration } from './calibrate.js';
import type { TuneReport } from './tune.js';

export const DETECTOR_FORMAT = 'napood-detector';
export const DETECTOR_VERSION = 1;
/** Headers above this are refused before parsing (a detector's header is a few hundred KB at most). */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export interface DetectorModelInfo {
  /** The model file as it was named (or the dumps' `model` metadata). */
  readonly file?: string;
  /** SHA-256 (hex) of the ONNX file's bytes. */
  readonly sha256?: string;
  /** The image input: name, dims of one image as the model takes them, layout. */
  readonly input?: { readonly name: string; readonly dims: readonly number[]; readonly layout: Layout };
  readonly featureMapTensor?: string;
}

export interface DetectorData {
  readonly model: DetectorModelInfo;
  /** Made from a model over images, or from feature dumps. */
  readonly source: 'model' | 'dumps';
  /** Feature sizes the method was fitted on: the map [C, H, W], pooled C, classes K. */
  readonly features: { readonly featureMap?: readonly number[]; readonly pooled?: number; readonly classes?: number };
  /** Class names in the model's output order, when the ID-train folders gave them. */
  readonly classes?: readonly string[];
  readonly preprocess?: Preprocess;
  readonly method: FittedMethod;
  readonly calibration: Calibration;
  /** What the calibration set was (path or label). */
  readonly calibrationSet?: string;
  /** The tune report, when `napood tune` chose the method. */
  readonly tune?: TuneReport;
  /** Who chose the method and its parameters: tune (with the report) or the user (nothing tuned). Default: tune when there is a report. */
  readonly chosenBy?: ChosenBy;
}

export type ChosenBy = 'tune' | 'user';

const CHOSEN_NOTE: Record<ChosenBy, string> = {
  tune: 'chosen by napood tune on ID-val vs pseudo-OOD (the tune report)',
  user: 'fixed by the user: nothing was tuned (no tune report)',
};

/** Who chose the detector's method (see DetectorData.chosenBy). */
export function chosenBy(d: Pick<DetectorData, 'tune' | 'chosenBy'>): ChosenBy {
  return d.chosenBy ?? (d.tune ? 'tune' : 'user');
}

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;
const DTYPES: readonly { dtype: string; ctor: { new (b: ArrayBuffer): Typed; readonly prototype: Typed; readonly BYTES_PER_ELEMENT: number } }[] = [
  { dtype: 'F32', ctor: Float32Array }, { dtype: 'F64', ctor: Float64Array }, { dtype: 'I32', ctor: Int32Array }, { dtype: 'U8', ctor: Uint8Array },
];
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface TensorEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

function dtypeOf(v: unknown): (typeof DTYPES)[number] | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const proto = Object.getPrototypeOf(v);
  return DTYPES.find((d) => d.ctor.prototype === proto);
}

function leBytes(t: Typed): Uint8Array {
  const view = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  if (LITTLE || t.BYTES_PER_ELEMENT === 1) return view;
  const copy = view.slice();
  for (let i = 0; i < copy.length; i += t.BYTES_PER_ELEMENT) copy.subarray(i, i + t.BYTES_PER_ELEMENT).reverse();
  return copy;
}

/** SHA-256 of bytes, hex (WebCrypto). */
export async function sha256Hex(...parts: Uint8Array[]): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!subtle) throw new NapoodError('sha256', 'WebCrypto (globalThis.crypto.subtle: Node ≥ 20, a browser in a secure context)', 'none');
  const total = parts.reduce((s, p) => s + p.length, 0);
  const all = parts.length === 1 ? parts[0]! : new Uint8Array(total);
  if (parts.length !== 1) { let o = 0; for (const p of parts) { all.set(p, o); o += p.length; } }
  const d = new Uint8Array(await subtle.digest('SHA-256', all));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The state with typed arrays swapped for {"$tensor": name} (collected in `tensors`). */
function splitState(value: unknown, path: string, tensors: Map<string, Typed>): unknown {
  const d = dtypeOf(value);
  if (d) {
    const name = `state/${path}`;
    tensors.set(name, value as Typed);
    return { $tensor: name };
  }
  if (Array.isArray(value)) return value.map((v, i) => splitState(v, `${path}[${i}]`, tensors));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = splitState(v, path ? `${path}.${k}` : k, tensors);
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

/** The bytes of a detector file (see the header). */
export async function encodeDetector(d: DetectorData): Promise<Uint8Array> {
  const tensors = new Map<string, Typed>();
  tensors.set('calibration.scores', d.calibration.scores);
  const state = d.method.state === undefined ? null : splitState(d.method.state, '', tensors);
  const table: Record<string, TensorEntry> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = leBytes(t);
    table[name] = { dtype: dtypeOf(t)!.dtype, shape: [t.length], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const data = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) { data.set(c, o); o += c.length; }
  const body = {
    format: DETECTOR_FORMAT,
    version: DETECTOR_VERSION,
    napood: VERSION,
    model: d.model,
    source: d.source,
    features: d.features,
    ...(d.classes ? { classes: d.classes } : {}),
    ...(d.preprocess ? { preprocess: d.preprocess } : {}),
    method: { spec: d.method.spec.text, name: d.method.spec.name, params: { ...d.method.spec.params }, chosen_by: chosenBy(d), chosen: CHOSEN_NOTE[chosenBy(d)] },
    state,
    threshold: { score: d.calibration.threshold, tpr: d.calibration.tpr, alpha: d.calibration.alpha, rule: 'ID iff score >= threshold (p-value > alpha)' },
    calibration: { ...calibrationSummary(d.calibration), ...(d.calibrationSet ? { set: d.calibrationSet } : {}), tensor: 'calibration.scores' },
    ...(d.tune ? { tune: d.tune } : {}),
    tensors: table,
  };
  const detectorText = JSON.stringify(body);
  const sha = await sha256Hex(new TextEncoder().encode(detectorText), data);
  const header = { __metadata__: { format: DETECTOR_FORMAT, version: String(DETECTOR_VERSION), detector: detectorText, sha256: sha }, ...table };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > json.length) { const p = new Uint8Array(padded).fill(0x20); p.set(json); json = p; }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function bad(what: string, expected: string, found: string): NapoodError {
  return new NapoodError(what, expected, found);
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

/** Parse and check a detector file's bytes; `what` names it in messages (its path). */
export async function decodeDetector(input: Uint8Array, what = 'detector'): Promise<DetectorData> {
  // A plain view: Node's Buffer.slice() does not copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const expected = 'a napood detector file (made by napood tune --out or napood calibrate --out)';
  if (bytes.length < 8) throw bad(what, expected, `${bytes.length} bytes`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw bad(what, expected, n64 > BigInt(MAX_HEADER_BYTES) ? 'a header length no detector has (not a detector file, or damaged)' : `a file of ${bytes.length} bytes whose header alone needs ${8n + n64} (truncated)`);
  }
  const headerEnd = 8 + Number(n64);
  let header: Record<string, unknown> | undefined;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd));
    header = obj(JSON.parse(text));
  } catch (e) {
    throw bad(what, expected, text ? jsonSyntaxError(e, text) : 'a header that is not UTF-8 text');
  }
  const meta = obj(header?.__metadata__);
  if (!header || !meta || meta.format !== DETECTOR_FORMAT) throw bad(what, expected, meta ? 'a safetensors file without napood detector metadata (a feature dump?)' : 'no napood detector metadata');
  const version = Number(meta.version);
  if (!Number.isSafeInteger(version) || version < 1) throw bad(what, `a detector format version (this napood reads ${DETECTOR_VERSION})`, describe(meta.version));
  if (version > DETECTOR_VERSION) throw bad(what, `a detector of format version ${DETECTOR_VERSION} (this napood ${VERSION} reads versions up to ${DETECTOR_VERSION})`, `version ${version}, made by a newer napood: upgrade napood to read it`);
  if (typeof meta.detector !== 'string' || typeof meta.sha256 !== 'string') throw bad(what, 'the detector description and its sha256 in the metadata', 'none');
  const table: Record<string, TensorEntry> = Object.create(null) as Record<string, TensorEntry>;
  let dataLength = 0;
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (name !== 'calibration.scores' && !name.startsWith('state/')) throw bad(`${what}: tensor ${describe(name)}`, 'only calibration.scores and state/… tensors', 'another name');
    const t = obj(v);
    const offs = t?.data_offsets;
    if (!t || !Array.isArray(offs) || offs.length !== 2 || !offs.every((x) => Number.isSafeInteger(x) && x >= 0) || offs[1] < offs[0]) throw bad(`${what}: tensor ${describe(name)}`, 'dtype, shape and data_offsets', 'a damaged entry');
    table[name] = t as unknown as TensorEntry;
    dataLength = Math.max(dataLength, offs[1]);
  }
  const end = headerEnd + dataLength;
  if (bytes.length < end) throw bad(what, `a file of ${end} bytes (its header says so)`, `${bytes.length} bytes: truncated`);
  if (bytes.length > end) throw bad(what, `a file of ${end} bytes (its header says so)`, `${bytes.length} bytes: data after the last tensor (damaged or appended to)`);
  const data = bytes.subarray(headerEnd, end);
  const sha = await sha256Hex(new TextEncoder().encode(meta.detector), data);
  if (sha !== meta.sha256) throw bad(what, 'contents that match the checksum written with them (sha256 in the metadata)', 'a different checksum: the file was edited or damaged after napood wrote it');
  let body: Record<string, unknown> | undefined;
  try { body = obj(JSON.parse(meta.detector)); } catch (e) { throw bad(what, 'the detector description as JSON', jsonSyntaxError(e, meta.detector)); }
  if (!body || body.format !== DETECTOR_FORMAT || body.version !== version) throw bad(what, 'a detector description of the same format and version as the file', 'another');
  if (JSON.stringify(body.tensors) !== JSON.stringify(table)) throw bad(what, 'a tensor table equal to the one described', 'a different one (edited)');
  return parseBody(body, table, data, what);
}

function tensorOf(name: string, table: Record<string, TensorEntry>, data: Uint8Array, what: string): Typed {
  const t = Object.hasOwn(table, name) ? table[name] : undefined;
  const d = DTYPES.find((x) => x.dtype === t?.dtype);
  if (!t || !d) throw bad(`${what}: tensor ${describe(name)}`, 'a tensor of dtype F32, F64, I32 or U8', t ? describe(t.dtype) : 'none');
  const [a, b] = t.data_offsets;
  const count = (b - a) / d.ctor.BYTES_PER_ELEMENT;
  if (!Array.isArray(t.shape) || t.shape.length !== 1 || t.shape[0] !== count) throw bad(`${what}: tensor ${describe(name)}`, `shape [${count}] for its ${b - a} bytes`, describe(JSON.stringify(t.shape)));
  const copy = new Uint8Array(data.subarray(a, b));
  if (!LITTLE) for (let i = 0; i < copy.length; i += d.ctor.BYTES_PER_ELEMENT) copy.subarray(i, i + d.ctor.BYTES_PER_ELEMENT).reverse();
  return new d.ctor(copy.buffer as ArrayBuffer);
}

/** Deepest nesting of a state accepted (napood's states nest 2 levels). */
const MAX_STATE_DEPTH = 16;

function joinState(value: unknown, table: Record<string, TensorEntry>, data: Uint8Array, what: string, depth = 0): unknown {
  if (depth > MAX_STATE_DEPTH) throw bad(`${what}: state`, `a fitted state nested at most ${MAX_STATE_DEPTH} levels`, 'deeper nesting');
  if (Array.isArray(value)) return value.map((v) => joinState(v, table, data, what, depth + 1));
  const o = obj(value);
  if (o) {
    if (typeof o.$tensor === 'string') return tensorOf(o.$tensor, table, data, what);
    if (typeof o.$number === 'string') {
      const v = ({ NaN, Infinity, '-Infinity': -Infinity } as Record<string, number>)[o.$number];
      if (v === undefined) throw bad(`${what}: state`, '"$number" NaN, Infinity or -Infinity', describe(o.$number));
      return v;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = joinState(v, table, data, what, depth + 1);
    return out;
  }
  return value;
}

const isDims = (v: unknown, length?: number): v is number[] => Array.isArray(v) && (length === undefined || v.length === length) && v.every((x) => Number.isSafeInteger(x) && x > 0);

function parseModel(v: unknown, what: string): DetectorModelInfo {
  const m = obj(v) ?? {};
  const where = `${what}: model`;
  const str = (x: unknown) => x === undefined || typeof x === 'string';
  if (!str(m.file) || !str(m.featureMapTensor)) throw bad(where, 'file and feature map names as strings', 'other values');
  if (m.sha256 !== undefined && !(typeof m.sha256 === 'string' && /^[0-9a-f]{64}$/.test(m.sha256))) throw bad(where, 'a sha256 of 64 hex digits', describe(String(m.sha256)));
  const input = m.input === undefined ? undefined : obj(m.input);
  if (m.input !== undefined && !(input && typeof input.name === 'string' && isDims(input.dims, 3) && (input.layout === 'nchw' || input.layout === 'nhwc'))) {
    throw bad(`${where} input`, 'a name, dims [3 positive integers] and layout nchw or nhwc', 'other values');
  }
  return m as DetectorModelInfo;
}

function parseFeatures(v: unknown, what: string): DetectorData['features'] {
  const f = obj(v) ?? {};
  const count = (x: unknown) => x === undefined || (Number.isSafeInteger(x) && (x as number) > 0);
  if ((f.featureMap !== undefined && !isDims(f.featureMap, 3)) || !count(f.pooled) || !count(f.classes)) throw bad(`${what}: features`, 'a feature map [C, H, W], pooled C and classes K as positive integers', 'other values');
  return f as DetectorData['features'];
}

function parseBody(b: Record<string, unknown>, table: Record<string, TensorEntry>, data: Uint8Array, what: string): DetectorData {
  const m = obj(b.method);
  if (!m || typeof m.spec !== 'string') throw bad(`${what}: method`, 'a method spec', 'none');
  if (m.chosen_by !== undefined && m.chosen_by !== 'tune' && m.chosen_by !== 'user') throw bad(`${what}: method chosen_by`, '"tune" or "user"', describe(String(m.chosen_by)));
  if (m.chosen_by === 'tune' && !obj(b.tune)) throw bad(`${what}: method chosen_by`, '"tune" with the tune report, or "user"', '"tune" without a tune report');
  const spec = parseMethodSpec(m.spec, `${what}: method`);
  if (spec.def.fit && (b.state === null || b.state === undefined)) throw bad(`${what}: state`, `the fitted state of ${spec.text}`, 'none');
  const state = b.state === null || b.state === undefined ? undefined : joinState(b.state, table, data, what);
  const scores = tensorOf('calibration.scores', table, data, what);
  const c = obj(b.calibration);
  const th = obj(b.threshold);
  if (!(scores instanceof Float64Array) || !c || !th) throw bad(`${what}: calibration`, 'F64 calibration scores with their summary and threshold', 'none');
  const n = scores.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(scores[i]!) || (i > 0 && scores[i]! < scores[i - 1]!)) throw bad(`${what}: calibration.scores`, 'finite scores sorted ascending', `row ${i}`);
  const tpr = Number(th.tpr);
  const alpha = tpr > 0 && tpr < 1 ? alphaOfTpr(tpr) : NaN;
  const k = orderIndex(alpha, n);
  if (!(tpr > 0 && tpr < 1) || k < 1 || c.n !== n || c.k !== k || th.score !== scores[k - 1]) throw bad(`${what}: threshold`, `the ${k}-th smallest of the ${n} calibration scores at TPR ${tpr}`, describe(String(th.score)));
  const idCount = n - scores.findIndex((s) => s >= scores[k - 1]!);
  const ci = Array.isArray(c.realised_tpr_ci95) && c.realised_tpr_ci95.length === 2 ? [Number(c.realised_tpr_ci95[0]), Number(c.realised_tpr_ci95[1])] as const : undefined;
  const calibration: Calibration = {
    scores, n, tpr, alpha, k, threshold: scores[k - 1]!, realisedTpr: idCount / n, expectedTpr: 1 - k / (n + 1),
    tprLowerBound: { confidence: 1 - TPR_BOUND_DELTA, tpr: tprLowerBound(n, k) },
    ...(ci ? { realisedTprCi: ci, bootstrap: c.bootstrap as Calibration['bootstrap'] } : {}),
  };
  const source = b.source === 'dumps' ? 'dumps' : 'model';
  const model = parseModel(b.model, what);
  const features = parseFeatures(b.features, what);
  const classes = Array.isArray(b.classes) && b.classes.every((x) => typeof x === 'string') ? b.classes as string[] : undefined;
  const preprocess = b.preprocess === undefined ? undefined : parsePreprocess(b.preprocess, `${what}: preprocess`);
  if (source === 'model' && !preprocess) throw bad(`${what}: preprocess`, 'the preprocessing of a detector made with a model', 'none');
  return {
    model, source, features, ...(classes ? { classes } : {}), ...(preprocess ? { preprocess } : {}),
    method: { spec, state }, calibration,
    ...(typeof c.set === 'string' ? { calibrationSet: c.set } : {}),
    ...(obj(b.tune) ? { tune: b.tune as unknown as TuneReport } : {}),
    chosenBy: m.chosen_by === 'user' || m.chosen_by === 'tune' ? m.chosen_by : obj(b.tune) ? 'tune' : 'user',
  };
}
