// Runs an ONNX model with onnxruntime-node on a float32 NCHW .npy batch and prints the largest
// absolute difference of its first output from reference logits (.npy, float32):
//   node tools/zoo_check_onnx.mjs model.onnx x.npy ref_logits.npy
// Used by tools/train_zoo.py (Debian's PyTorch has no onnxruntime) to check an export.
import * as fs from 'node:fs';
import ort from 'onnxruntime-node';

function readNpy(file) {
  const b = fs.readFileSync(file);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.subarray(start, start + hlen).toString('latin1');
  if (!header.includes("'<f4'")) throw new Error(`${file}: expected float32, header ${header}`);
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const off = start + hlen;
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return { shape, data };
}

const [model, xFile, refFile] = process.argv.slice(2);
const x = readNpy(xFile);
const ref = readNpy(refFile);
const session = await ort.InferenceSession.create(model);
const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
const got = out[session.outputNames[0]].data;
if (got.length !== ref.data.length) throw new Error(`output ${got.length} values, reference ${ref.data.length}`);
let max = 0;
for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - ref.data[i]));
console.log(max);
