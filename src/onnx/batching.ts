/**
 * Running models exported with a fixed batch size. `torch.onnx.export` without `dynamic_axes`
 * (and many converters) writes the input as [1, C, H, W]: onnxruntime then refuses any other batch,
 * and the graph may hold that size in Reshape constants, so the dims cannot simply be made
 * symbolic. Such a model runs n rows in slices of its batch size; a short last slice is padded with
 * zeros and the padding rows are dropped from every output. Rows are independent in inference
 * (BatchNorm uses its running statistics), so the result equals one run of all n rows.
 */
import type { OnnxRuntime, OnnxSession, OnnxTensor } from './runtime.js';

/** An input fed by rows: `data` holds n rows of `rowDims` each. */
export interface RowFeed {
  readonly data: Float32Array;
  readonly rowDims: readonly number[];
}

/** What a run returns per output (an onnxruntime Tensor, or rows joined from several runs). */
export interface RunOutput {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The fixed batch size of a model input's shape, or undefined when the batch is symbolic. */
export function fixedBatchOf(dim0: number | string | null | undefined): number | undefined {
  return typeof dim0 === 'number' && dim0 > 0 ? dim0 : undefined;
}

/**
 * Run `session` (of `runtime`) on n rows: in one call when the batch is dynamic (or n equals the fixed size),
 * else in slices of `fixedBatch`. Float32 outputs whose first axis is the batch are joined;
 * other outputs are those of the first slice.
 */
export async function runRows(runtime: OnnxRuntime, session: OnnxSession, feeds: Readonly<Record<string, RowFeed>>, n: number,
  fixedBatch: number | undefined): Promise<Record<string, RunOutput>> {
  const tensors = (start: number, count: number, rows: number): Record<string, OnnxTensor> => {
    const out: Record<string, OnnxTensor> = {};
    for (const [name, f] of Object.entries(feeds)) {
      const per = f.rowDims.reduce((a, b) => a * b, 1);
      let data = f.data.subarray(start * per, (start + count) * per);
      if (count < rows) {
        const padded = new Float32Array(rows * per);
        padded.set(data);
        data = padded;
      }
      out[name] = new runtime.Tensor('float32', data, [rows, ...f.rowDims]);
    }
    return out;
  };
  if (fixedBatch === undefined || n === fixedBatch) return await session.run(tensors(0, n, n));
  const slices: Record<string, OnnxTensor>[] = [];
  for (let start = 0; start < n; start += fixedBatch) {
    slices.push(await session.run(tensors(start, Math.min(fixedBatch, n - start), fixedBatch)));
  }
  const joined: Record<string, RunOutput> = {};
  for (const [name, first] of Object.entries(slices[0]!)) {
    if (first.type !== 'float32' || first.dims[0] !== fixedBatch) {
      joined[name] = first;
      continue;
    }
    const per = (first.data as Float32Array).length / fixedBatch;
    const data = new Float32Array(n * per);
    slices.forEach((s, k) => {
      const rows = Math.min(fixedBatch, n - k * fixedBatch);
      data.set((s[name]!.data as Float32Array).subarray(0, rows * per), k * fixedBatch * per);
    });
    joined[name] = { type: 'float32', data, dims: [n, ...first.dims.slice(1)] };
  }
  return joined;
}
