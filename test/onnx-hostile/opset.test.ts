/**
 * Opsets and IR versions (issue #10 item 4): a model at ai.onnx opset 9999 was reported as a
 * truncated onnxruntime source path. Before any session napood now says the model's opset and the
 * range the installed onnxruntime supports (1.22: ai.onnx 1 to 22, ai.onnx.ml 1 to 5, IR 1 to 10,
 * checked here against the installed package itself); with a runtime of unknown release, the same
 * message comes from onnxruntime's refusal. Other onnxruntime messages lose their C++ prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadOnnxModel, nodeRuntime } from '../../src/node/onnx.js';
import { loadOnnxModel as loadOnnxModelBytes } from '../../src/onnx/adapter.js';
import { buildGradientModel } from '../../src/onnx/grad/index.js';
import { cleanOrtMessage, runtimeSupport, type OnnxRuntime } from '../../src/onnx/runtime.js';
import { HOSTILE, assertRefused, napood, napoodError } from './helpers.js';

const path = (name: string) => join(HOSTILE, name);
const bytes = (name: string) => new Uint8Array(readFileSync(path(name)));

test('opsets and IR versions out of onnxruntime 1.22\'s range: the model\'s and the supported range, before any session', async () => {
  const cases: [string, RegExp][] = [
    ['opset_9999.onnx', /opset_9999\.onnx: expected an ONNX model at ai\.onnx opset 1 to 22 \(the range onnxruntime 1\.22\.0 supports\), found opset 9999$/],
    ['opset_23.onnx', /expected an ONNX model at ai\.onnx opset 1 to 22 .*found opset 23$/],
    ['opset_0.onnx', /expected an ONNX model at ai\.onnx opset 1 to 22 .*found opset 0$/],
    ['ml_opset_6.onnx', /expected an ONNX model at ai\.onnx\.ml opset 1 to 5 \(the range onnxruntime 1\.22\.0 supports\), found opset 6$/],
    ['ir_11.onnx', /expected an ONNX model of IR version 1 to 10 \(the range onnxruntime 1\.22\.0 supports\), found IR version 11$/],
  ];
  for (const [name, re] of cases) {
    await assert.rejects(loadOnnxModel(path(name)), napoodError(re, path(name)), name);
    await assert.rejects(buildGradientModel(bytes(name), { file: name }, nodeRuntime), napoodError(re, name), name);
  }
  const r = napood(['inspect', path('opset_9999.onnx')]);
  assertRefused(r, /found opset 9999$/m);
  assert.doesNotMatch(r.stderr, /onnxruntime_src|\.h:\d+/);
  const m = await loadOnnxModel(path('opset_22.onnx'), { threads: 1 });
  await m.release();
});

test('the table of supported ranges is the installed onnxruntime\'s: 22 loads, 23 is refused by onnxruntime itself "till opset 22"', async () => {
  const support = runtimeSupport(nodeRuntime);
  assert.ok(support !== undefined, `onnxruntime ${ort.env.versions.common}: add its ranges to src/onnx/runtime.ts SUPPORT`);
  assert.equal(support.opsets['ai.onnx'], 22);
  const s = await ort.InferenceSession.create(bytes('opset_22.onnx'), { logSeverityLevel: 3 });
  await s.release();
  await assert.rejects(ort.InferenceSession.create(bytes('opset_23.onnx'), { logSeverityLevel: 3 }), /domain ai\.onnx is till opset 22/);
  await assert.rejects(ort.InferenceSession.create(bytes('ir_11.onnx'), { logSeverityLevel: 3 }), /max supported IR version: 10/);
});

test('a runtime of unknown release: onnxruntime\'s refusal is worded the same way, without its source path', async () => {
  const unknown: OnnxRuntime = { InferenceSession: ort.InferenceSession, Tensor: ort.Tensor };
  assert.equal(runtimeSupport(unknown), undefined);
  await assert.rejects(loadOnnxModelBytes(bytes('opset_9999.onnx'), 'm.onnx', {}, unknown),
    napoodError(/^m\.onnx: expected an ONNX model at ai\.onnx opset 1 to 22 \(the range onnxruntime supports\), found opset 9999$/, 'm.onnx'));
});

test('cleanOrtMessage drops the C++ location and signature, keeps the message', () => {
  assert.equal(cleanOrtMessage('/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 void onnxruntime::model_load_utils::ValidateOpsetForDomain(const std::unordered_map<std::__cxx11::basic_string<char>, int>&, const onnxruntime::logging::Logger&, bool, const std::string&, int) ONNX Runtime only *guarantees* support.'),
    'ONNX Runtime only *guarantees* support.');
  assert.equal(cleanOrtMessage("Non-zero status code returned while running Reshape node. Name:'rs' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:45 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) input_shape_size == size was false."),
    "Non-zero status code returned while running Reshape node. Name:'rs' Status Message: input_shape_size == size was false.");
  assert.equal(cleanOrtMessage('Exception during initialization: /onnxruntime_src/onnxruntime/core/framework/x.cc:12 virtual void onnxruntime::A::f() const Bad thing'), 'Exception during initialization: Bad thing');
  assert.equal(cleanOrtMessage('Load model from x failed: plain message'), 'Load model from x failed: plain message');
});
