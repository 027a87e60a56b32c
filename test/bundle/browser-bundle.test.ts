/**
 * `napood` is runtime-neutral (docs/ARCHITECTURE.md): bundled with esbuild for the browser
 * (`platform: 'browser'`, `bundle: true`, `format: 'esm'`, nothing external) it must import no
 * Node builtin (`node:*`, `fs`, `path`, ...) and no native package (sharp, onnxruntime-node).
 * A failure names each forbidden module and the file that imported it. The bundle's size
 * (minified, and minified + gzipped) is printed as a test diagnostic.
 *
 * The compiled entries (dist/src/...) are bundled, so this runs after `tsc` like the other tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { repoRoot } from '../helpers.js';

/** Packages that cannot run in a browser (native add-ons), besides Node's builtins. */
const NATIVE_PACKAGES = ['sharp', 'onnxruntime-node'];
const BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, '')));

function forbidden(spec: string): boolean {
  if (spec.startsWith('node:')) return true;
  const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
  return BUILTINS.has(pkg) || NATIVE_PACKAGES.includes(pkg);
}

interface BundleReport {
  /** `importer → module` for each forbidden import. */
  readonly forbidden: readonly string[];
  /** esbuild's errors (anything else it could not resolve or parse). */
  readonly errors: readonly string[];
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly inputs: number;
  /** Possible uses of Node globals in the output (a hint, not checked). */
  readonly globals: readonly string[];
}

/** Bundle `entry` (relative to the repository root) for the browser, minified. */
async function bundleForBrowser(entry: string): Promise<BundleReport> {
  const found: string[] = [];
  const rel = (p: string): string => relative(repoRoot, p).split('\\').join('/') || p;
  const guard: esbuild.Plugin = {
    name: 'forbid-node',
    setup(build) {
      // Record the import and keep going (external), so that one run lists every offender.
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point' || !forbidden(args.path)) return undefined;
        found.push(`${rel(args.importer)} → ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      absWorkingDir: repoRoot,
      entryPoints: [join(repoRoot, entry)],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [guard],
    });
  } catch (e) {
    const errors = (e as esbuild.BuildFailure).errors ?? [];
    if (errors.length === 0) throw e;
    return {
      forbidden: [...new Set(found)].sort(),
      errors: errors.map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`),
      bytes: 0, gzipBytes: 0, inputs: 0, globals: [],
    };
  }
  const out = result.outputFiles[0]!.contents;
  const text = new TextDecoder().decode(out);
  const globals = [...new Set(text.match(/(?<![.\w$'"`])(Buffer|process|__dirname|__filename)(?=\.|\()/g) ?? [])];
  return {
    forbidden: [...new Set(found)].sort(),
    errors: result.errors.map((m) => m.text),
    bytes: out.length,
    gzipBytes: gzipSync(out, { level: 9 }).length,
    inputs: Object.keys(result.metafile.inputs).length,
    globals,
  };
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}

async function checkNodeFree(t: test.TestContext, entry: string): Promise<void> {
  assert.ok(existsSync(join(repoRoot, entry)), `${entry} is missing: build with tsc first`);
  const r = await bundleForBrowser(entry);
  assert.deepEqual(r.forbidden, [], `${entry} bundled for the browser imports Node-only modules (importer → module):\n  ${r.forbidden.join('\n  ')}`);
  assert.deepEqual(r.errors, [], `esbuild could not bundle ${entry} for the browser:\n  ${r.errors.join('\n  ')}`);
  t.diagnostic(`${entry}: ${r.inputs} modules, ${kb(r.bytes)} minified, ${kb(r.gzipBytes)} gzipped`);
  if (r.globals.length > 0) t.diagnostic(`${entry}: the bundle mentions Node globals (check they are guarded): ${r.globals.join(', ')}`);
}

test('the guard flags Node builtins and native packages, not ordinary modules', () => {
  for (const m of ['node:fs', 'fs', 'fs/promises', 'path', 'zlib', 'sharp', 'onnxruntime-node', 'onnxruntime-node/dist/x.js']) assert.ok(forbidden(m), m);
  for (const m of ['./x.js', '../images/index.js', 'protobufjs', 'onnxruntime-common', 'esbuild']) assert.ok(!forbidden(m), m);
});

test('esbuild reports a Node import with the module that imported it', async () => {
  // dist/src/node/images/loader.js is Node's provider: it must be caught, and named.
  const r = await bundleForBrowser('dist/src/node/images/loader.js');
  assert.ok(r.forbidden.includes('dist/src/node/images/loader.js → sharp'), r.forbidden.join('\n'));
  // File reading lives in files.ts (regular files only, header first), imported by loader.js.
  assert.ok(r.forbidden.includes('dist/src/node/images/files.js → node:fs/promises'), r.forbidden.join('\n'));
  assert.ok(r.forbidden.includes('dist/src/node/images/zlib.js → node:zlib'), r.forbidden.join('\n'));
});

test('napood/images (src/images/index.ts) bundles for the browser without Node modules', async (t) => {
  await checkNodeFree(t, 'dist/src/images/index.js');
});

test('napood (src/index.ts) bundles for the browser without Node modules', {
}, async (t) => {
  await checkNodeFree(t, 'dist/src/index.js');
});

// More entries to check by hand, e.g. NAPOOD_BUNDLE_ENTRIES=dist/src/index.js (comma-separated).
for (const entry of (process.env.NAPOOD_BUNDLE_ENTRIES ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
  test(`${entry} bundles for the browser without Node modules`, async (t) => {
    await checkNodeFree(t, entry);
  });
}
