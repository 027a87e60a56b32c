/**
 * The committed WASM module (src/kernels/nap_wasm.ts) is the assembly of src/kernels/nap.wat, and
 * the tiny assembler (tools/wat-asm.mjs) reports what it cannot read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NAP_WASM_BASE64 } from '../../src/kernels/nap_wasm.js';

function repoFile(rel: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    const up = dirname(dir);
    if (up === dir) throw new Error(`${rel}: not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

type Assemble = (text: string) => Uint8Array<ArrayBuffer>;
async function assembler(): Promise<Assemble> {
  const mod = (await import(pathToFileURL(repoFile('tools/wat-asm.mjs')).href)) as { assemble: Assemble };
  return mod.assemble;
}

test('src/kernels/nap_wasm.ts is the assembly of src/kernels/nap.wat (run node tools/build-nap-wasm.mjs)', async () => {
  const assemble = await assembler();
  const bytes = assemble(readFileSync(repoFile('src/kernels/nap.wat'), 'utf8'));
  assert.equal(Buffer.from(bytes).toString('base64'), NAP_WASM_BASE64);
  assert.ok(WebAssembly.validate(bytes));
});

test('wat-asm: a small module with SIMD, labels and a mutable global runs', async () => {
  const assemble = await assembler();
  const bytes = assemble(`(module
    (memory (export "memory") 1)
    (global $g (export "g") (mut i32) (i32.const 0))
    (func $hsum (export "hsum") (param $p i32) (result f64) (local $v v128)
      local.get $p v128.load local.tee $v f64x2.promote_low_f32x4
      local.get $v local.get $v i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
      f64x2.promote_low_f32x4 f64x2.add local.tee $v
      f64x2.extract_lane 0 local.get $v f64x2.extract_lane 1 f64.add
      global.get $g i32.const 1 i32.add global.set $g)
    (func $count (export "count") (param $n i32) (result i32) (local $i i32)
      block $out
        loop $again
          local.get $i local.get $n i32.ge_s br_if $out
          local.get $i i32.const 1 i32.add local.set $i
          br $again
        end
      end
      local.get $i))`);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const ex = inst.exports as unknown as { memory: WebAssembly.Memory; g: WebAssembly.Global; hsum(p: number): number; count(n: number): number };
  new Float32Array(ex.memory.buffer).set([1.5, 2.25, 3, 0.125], 4);
  assert.equal(ex.hsum(16), 6.875);
  assert.equal(ex.g.value, 1);
  assert.equal(ex.count(5), 5);
});

test('wat-asm: unknown instructions and labels are errors naming them', async () => {
  const assemble = await assembler();
  assert.throws(() => assemble('(module (func $f f32x4.frobnicate))'), /func \$f: unknown instruction "f32x4.frobnicate"/);
  assert.throws(() => assemble('(module (func $f block $a br $b end))'), /func \$f: unknown label "\$b"/);
  assert.throws(() => assemble('(module (func $f block))'), /func \$f: 1 block\(s\) not closed/);
});
