/**
 * The model's part of a run for methods that need the model itself (ODIN's input perturbation).
 */
import { NapoodError } from '../errors.js';
import type { OnnxClassifier } from '../onnx/adapter.js';
import { createOdinScorer, type OdinScorer } from '../onnx/odin.js';
import type { ModelAccess } from '../types.js';

/**
 * The model's part of a run for methods that need the model itself (ODIN's input perturbation).
 * A gradient model is built once per (T, η) and reused for every batch; `std` is the input
 * normalisation std per channel (η is in [0, 1]-pixel units, as in the ODIN code).
 */
export interface ModelAccessHandle extends ModelAccess {
  release(): Promise<void>;
}

export function modelAccess(model: OnnxClassifier, std: readonly number[] | undefined, threads: number | undefined): ModelAccessHandle {
  const scorers = new Map<string, Promise<OdinScorer>>();
  return {
    async odinScores(input, n, temperature, noise) {
      if (!std) {
        throw new NapoodError('odin', 'the normalisation std of the model input, to express η in pixel units: --std S[,S,S] or --preset (or images, whose preprocessing gives it)', 'a preprocessed tensor and no --std');
      }
      const key = `${temperature}/${noise}`;
      let scorer = scorers.get(key);
      if (!scorer) {
        scorer = createOdinScorer(model, { temperature, noise, std, threads });
        scorers.set(key, scorer);
      }
      return (await scorer).scores(input, n);
    },
    async release() {
      for (const s of scorers.values()) {
        try { await (await s).release(); } catch { /* creation failed: nothing to release */ }
      }
      scorers.clear();
    },
  };
}

