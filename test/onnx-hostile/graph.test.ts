/**
 * Graph structure (issue #10 item 2 and siblings): a cycle (two Identity nodes feeding each other
 * before the pooling, a node reading its own output, a cycle in the head) made every graph walk
 * loop; now each command refuses it at once, naming the nodes of the cycle. So are a tensor
 * defined twice, subgraphs nested deeper than onnxruntime's protobuf parser goes, and more nodes
 * than MAX_NODES. Every entry point checks: the loader, analyseGraph / planGraph on a decoded
 * model, the gradient model of raw bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnxModel, nodeRuntime } from '../../src/node/onnx.js';
import { analyseGraph } from '../../src/onnx/graph.js';
import { planGraph } from '../../src/onnx/grad/plan.js';
import { buildGradientModel } from '../../src/onnx/grad/index.js';
import { checkGraph, findCycle, producerMap } from '../../src/onnx/nodes.js';
import { MAX_NODES } from '../../src/onnx/limits.js';
import { decodeModel, type ModelProto, type NodeProto } from '../../src/onnx/proto.js';
import { fixturesDir } from '../helpers.js';
import { HOSTILE, assertRefused, napood, napoodError } from './helpers.js';

const path = (name: string) => join(HOSTILE, name);
const decoded = (name: string) => decodeModel(new Uint8Array(readFileSync(path(name))), name);
const CYCLE = /expected an acyclic graph \(no node may depend on its own output\), found a cycle: /;

const cycles: [string, RegExp][] = [
  ['cycle_identity.onnx', /a cycle: id_b \(Identity\) → id_a \(Identity\) → id_b \(Identity\)$/],
  ['cycle_self.onnx', /a cycle: self_relu \(Relu\) → self_relu \(Relu\)$/],
  ['cycle_head.onnx', /a cycle: head_id \(Identity\) → head_add \(Add\) → head_id \(Identity\)$/],
];

test('cycles: the loader, analyseGraph, planGraph and the gradient model refuse them, naming the nodes', async () => {
  for (const [name, re] of cycles) {
    await assert.rejects(loadOnnxModel(path(name)), napoodError(re, path(name)), name);
    assert.throws(() => analyseGraph(decoded(name), { file: name }), napoodError(re, name), name);
    assert.throws(() => planGraph(decoded(name), name), napoodError(re, name), name);
    await assert.rejects(buildGradientModel(new Uint8Array(readFileSync(path(name))), { file: name }, nodeRuntime), napoodError(re, name), name);
  }
});

test('cycles: inspect, dump, score, fit and eval exit 2 at once with the cycle (they looped forever)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'napood-hostile-graph-'));
  const tree = join(fixturesDir, 'images', 'tree');
  const m = path('cycle_identity.onnx');
  try {
    const runs: string[][] = [
      ['inspect', m],
      ['dump', '--model', m, '--input', path('input.npy'), '--out', join(dir, 'd.safetensors')],
      ['score', '--model', m, '--features', tree, '--method', 'energy', '--out', join(dir, 's.npy')],
      ['fit', '--model', m, '--fit', tree, '--methods', 'react', '--out', join(dir, 'state.json')],
      ['eval', '--model', m, '--id', tree, '--ood', `o=${tree}`, '--fit', tree, '--methods', 'react'],
    ];
    for (const args of runs) assertRefused(napood(args, { timeoutMs: 30_000 }), CYCLE, /id_b \(Identity\) → id_a \(Identity\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('findCycle: long cycles in data-flow order, acyclic graphs pass; checkGraph shows at most 8 nodes of a long cycle', () => {
  const node = (name: string, inputs: string[], outputs: string[]): NodeProto =>
    ({ name, opType: 'Identity', domain: '', inputs, outputs, attributes: [], raw: new Uint8Array(0) });
  const n = 1000;
  // t0 → n0 → t1 → n1 … → n999 → t0: a cycle through every node, listed in reverse order
  const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`, [`t${i}`], [`t${(i + 1) % n}`])).reverse();
  const cycle = findCycle(nodes, producerMap(nodes))!;
  assert.equal(cycle.length, n);
  for (let k = 0; k + 1 < n; k++) {
    const from = nodes[cycle[k]!]!;
    assert.ok(nodes[cycle[k + 1]!]!.inputs.includes(from.outputs[0]!), 'each node feeds the next');
  }
  const chain = Array.from({ length: n }, (_, i) => node(`c${i}`, [`u${i}`], [`u${i + 1}`]));
  assert.equal(findCycle(chain, producerMap(chain)), undefined);
  const model = { irVersion: 8, opsetImports: [], graph: { nodes, initializers: [], inputs: [], outputs: [], valueInfo: [] } } as unknown as ModelProto;
  assert.throws(() => checkGraph(model, 'long.onnx'), napoodError(/found a cycle: (n\d+ \(Identity\) → ){8}… \(1000 nodes\) → n\d+ \(Identity\)$/, 'long.onnx'));
});

test('a tensor defined twice, subgraphs nested 40 deep, more than MAX_NODES nodes: refused', async () => {
  await assert.rejects(loadOnnxModel(path('dup_output.onnx')),
    napoodError(/expected each tensor defined once .*found "d" is an output of dup_1 \(Identity\) and an output of dup_2 \(Relu\)$/));
  await assert.rejects(loadOnnxModel(path('nested_if.onnx')),
    napoodError(/expected subgraphs \(If \/ Loop \/ Scan bodies\) nested at most 32 deep, found a subgraph nested 33 deep$/));
  const one: NodeProto = { name: '', opType: 'Relu', domain: '', inputs: ['x'], outputs: [''], attributes: [], raw: new Uint8Array(0) };
  const many = { irVersion: 8, opsetImports: [], graph: { nodes: new Array<NodeProto>(MAX_NODES + 1).fill(one), initializers: [], inputs: [], outputs: [], valueInfo: [] } } as unknown as ModelProto;
  assert.throws(() => checkGraph(many, 'many.onnx'), napoodError(/expected a graph of at most 1,000,000 nodes, found 1,000,001 nodes$/, 'many.onnx'));
});

test('analysis work is bounded: 20,000 pooling candidates that all fail are not each walked over the whole graph', () => {
  const node = (opType: string, inputs: string[], outputs: string[], name = ''): NodeProto =>
    ({ name, opType, domain: '', inputs, outputs, attributes: [], raw: new Uint8Array(0) });
  const k = 20_000;
  // r = Relu(x); g_i = GlobalAveragePool(r), summed by a chain of Adds: every g_i feeds two nodes and the
  // logits also read x through r, so no candidate is a clean cut (each would cost a walk of all ~40,000 nodes)
  const nodes: NodeProto[] = [node('Relu', ['x'], ['r'])];
  for (let i = 0; i < k; i++) {
    nodes.push(node('GlobalAveragePool', ['r'], [`g${i}`], `gap${i}`));
    nodes.push(node('Add', [i === 0 ? 'g0' : `a${i - 1}`, `g${i}`], [`a${i}`]));
  }
  nodes.push(node('Flatten', [`a${k - 1}`], ['f']), node('Flatten', ['g0'], ['f0']), node('Add', ['f', 'f0'], ['logits']));
  const vi = (name: string, shape: (number | string)[]) => ({ name, elemType: 1, shape, raw: new Uint8Array(0) });
  const model = {
    irVersion: 8, producerName: '', producerVersion: '', opsetImports: [{ domain: '', version: 13, raw: new Uint8Array(0) }], functionsRaw: [],
    graph: { name: 'g', nodes, initializers: [], inputs: [vi('x', ['N', 3, 8, 8])], outputs: [vi('logits', ['N', 3])], valueInfo: [], sparseInitializers: 0 },
    graphFields: 1,
  } as unknown as ModelProto;
  const t0 = performance.now();
  assert.throws(() => analyseGraph(model, { file: 'wide.onnx' }), napoodError(/^wide\.onnx: expected a global pooling before the classifier/, 'wide.onnx'));
  const ms = performance.now() - t0;
  assert.ok(ms < 20_000, `analysis took ${ms.toFixed(0)} ms`);
});
