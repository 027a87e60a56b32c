/**
 * The ONNX runtime napood runs models on, injected: everything under onnx/ is typed against
 * `onnxruntime-common` (types only, no import at run time) and receives an `OnnxRuntime`, the two
 * parts of an onnxruntime package it uses. The module object of onnxruntime's Node binding is one
 * (node/onnx.ts `nodeRuntime`); onnxruntime-web's is another.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { NapoodError } from '../errors.js';
import type { ModelProto } from './proto.js';

export type OnnxSession = InferenceSession;
export type OnnxTensor = Tensor;
export type OnnxSessionOptions = InferenceSession.SessionOptions;

/** The parts of an onnxruntime module napood uses (the Node binding's or onnxruntime-web's module object). */
export interface OnnxRuntime {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  readonly Tensor: typeof Tensor;
  /** onnxruntime's `env` (its versions tell which opsets it supports; absent: nothing is checked before a session). */
  readonly env?: { readonly versions?: { readonly common?: string } };
}

/** What one onnxruntime release supports: the highest IR version and opset of each domain it checks. */
export interface RuntimeSupport {
  readonly version: string;
  readonly irVersion: number;
  /** Highest official opset per domain ('ai.onnx' for the default domain ''). */
  readonly opsets: Readonly<Record<string, number>>;
}

/**
 * Releases whose bounds were verified (onnxruntime-node 1.22.0 refuses ai.onnx opset 23 with
 * "Current official support for domain ai.onnx is till opset 22", ai.onnx.ml 6 (till 5),
 * com.microsoft 2 (till 1) and IR version 11 (max supported IR version: 10)).
 */
const SUPPORT: Readonly<Record<string, Omit<RuntimeSupport, 'version'>>> = {
  '1.22': { irVersion: 10, opsets: { 'ai.onnx': 22, 'ai.onnx.ml': 5, 'com.microsoft': 1 } },
};

/** The bounds of `runtime`'s release, when they are known. */
export function runtimeSupport(runtime: OnnxRuntime): RuntimeSupport | undefined {
  const version = runtime.env?.versions?.common;
  const known = version === undefined ? undefined : SUPPORT[version.split('.').slice(0, 2).join('.')];
  return known === undefined ? undefined : { version: version!, ...known };
}

/**
 * The model's opset imports and IR version against what `runtime` supports, before any session:
 * a NapoodError naming `file` with the model's opset and the supported range. An ai.onnx opset
 * < 1 is refused whatever the release.
 */
export function checkRuntimeSupport(model: ModelProto, file: string, runtime: OnnxRuntime): void {
  const support = runtimeSupport(runtime);
  const ort = support === undefined ? 'onnxruntime' : `onnxruntime ${support.version}`;
  for (const o of model.opsetImports) {
    const domain = o.domain === '' ? 'ai.onnx' : o.domain;
    const max = support?.opsets[domain];
    if (max === undefined && domain !== 'ai.onnx') continue; // custom domains: onnxruntime's own check
    const range = max !== undefined ? `${domain} opset 1 to ${max} (the range ${ort} supports)` : `${domain} opset ≥ 1`;
    if (!Number.isSafeInteger(o.version) || o.version < 1 || (max !== undefined && o.version > max)) {
      throw new NapoodError(file, `an ONNX model at ${range}`, `opset ${o.version}`);
    }
  }
  if (support !== undefined && model.irVersion > support.irVersion) {
    throw new NapoodError(file, `an ONNX model of IR version 1 to ${support.irVersion} (the range ${ort} supports)`, `IR version ${model.irVersion}`);
  }
}

/**
 * Session options of every napood session: the CPU provider, onnxruntime's warnings silenced, and
 * `threads` intra-op threads when given. `optimization` undefined keeps onnxruntime's default level.
 */
export function sessionOptions(threads: number | undefined, optimization?: 'all' | 'disabled'): OnnxSessionOptions {
  return {
    executionProviders: ['cpu'],
    ...(optimization !== undefined ? { graphOptimizationLevel: optimization } : {}),
    logSeverityLevel: 3,
    ...(threads !== undefined ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  };
}

/**
 * onnxruntime's message without the C++ source location and function signature it starts with
 * ("/onnxruntime_src/…/x.h:46 void onnxruntime::f(const std::…&, int) Opset 23 is …" → "Opset 23 is …").
 */
export function cleanOrtMessage(message: string): string {
  let m = message.replace(/\u001b\[[0-9;]*m/g, '').trim();
  for (;;) {
    const at = m.search(/\/\S*onnxruntime\S*:\d+ /);
    if (at < 0) break;
    const afterPath = m.indexOf(' ', at) + 1;
    // the signature runs to the parenthesis closing its first '(' (then an optional " const")
    const open = m.indexOf('(', afterPath);
    let end = -1;
    if (open >= 0 && !m.slice(afterPath, open).includes('. ')) {
      let depth = 0;
      for (let i = open; i < m.length; i++) {
        if (m[i] === '(') depth++;
        else if (m[i] === ')' && --depth === 0) { end = i + 1; break; }
      }
    }
    if (end < 0) {
      m = m.slice(0, at) + m.slice(afterPath);
      continue;
    }
    if (m.startsWith(' const', end)) end += 6;
    m = m.slice(0, at) + m.slice(end).trimStart();
  }
  return m;
}

/** An onnxruntime error message, cleaned and quoted for a NapoodError (up to 400 characters). */
export function ortMessage(e: unknown): string {
  const m = cleanOrtMessage(String((e as Error)?.message ?? e));
  return JSON.stringify(m.length > 400 ? m.slice(0, 397) + '...' : m);
}

/** onnxruntime's refusal of an opset ("Opset 23 is under development… domain ai.onnx is till opset 22"), as napood words it. */
function opsetRefusal(e: unknown, file: string): NapoodError | undefined {
  const m = String((e as Error)?.message ?? e);
  const got = /Opset (\d+) is under development/.exec(m);
  const max = /official support for domain (\S+) is till opset (\d+)/.exec(m);
  if (got === null || max === null) return undefined;
  return new NapoodError(file, `an ONNX model at ${max[1]} opset 1 to ${max[2]} (the range onnxruntime supports)`, `opset ${got[1]}`);
}

/** A session on `bytes`; when onnxruntime refuses them, a NapoodError naming `file` with `expected`. */
export async function openSession(runtime: OnnxRuntime, bytes: Uint8Array, options: OnnxSessionOptions,
  file: string, expected = 'a model onnxruntime can load'): Promise<OnnxSession> {
  try {
    return await runtime.InferenceSession.create(bytes, options);
  } catch (e) {
    throw opsetRefusal(e, file) ?? new NapoodError(file, expected, ortMessage(e));
  }
}
