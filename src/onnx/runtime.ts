/**
 * The ONNX runtime napood runs models on, injected: everything under onnx/ is typed against
 * `onnxruntime-common` (types only, no import at run time) and receives an `OnnxRuntime`, the two
 * parts of an onnxruntime package it uses. The module object of onnxruntime's Node binding is one
 * (node/onnx.ts `nodeRuntime`); onnxruntime-web's is another.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { NapoodError, describe } from '../errors.js';

export type OnnxSession = InferenceSession;
export type OnnxTensor = Tensor;
export type OnnxSessionOptions = InferenceSession.SessionOptions;

/** The parts of an onnxruntime module napood uses (the Node binding's or onnxruntime-web's module object). */
export interface OnnxRuntime {
  readonly InferenceSession: {
    create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession>;
  };
  readonly Tensor: typeof Tensor;
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

/** An onnxruntime error message, quoted for a NapoodError. */
export function ortMessage(e: unknown): string {
  return describe(String((e as Error)?.message ?? e));
}

/** A session on `bytes`; when onnxruntime refuses them, a NapoodError naming `file` with `expected`. */
export async function openSession(runtime: OnnxRuntime, bytes: Uint8Array, options: OnnxSessionOptions,
  file: string, expected = 'a model onnxruntime can load'): Promise<OnnxSession> {
  try {
    return await runtime.InferenceSession.create(bytes, options);
  } catch (e) {
    throw new NapoodError(file, expected, ortMessage(e));
  }
}
