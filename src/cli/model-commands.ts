/**
 * CLI commands over ONNX models: `napood inspect MODEL` and `napood dump --model MODEL …`.
 */
import { NapoodError } from '../errors.js';
import { DUMP_TENSORS } from '../types.js';
import { openSafetensorsStream } from '../node/io/safetensors-stream.js';
import { listOption, parseCommand, stringOption } from './args.js';
import { checkOutputs } from '../node/outputs.js';
import { sha256File } from '../node/io/sha256.js';
import { dumpSpec, inspectSpec } from './specs.js';
import { inspectReport, inspectText } from '../app/inspect.js';
import { openModel, parseInputShape, type ModelSource } from './model.js';
import { progressLine } from './progress.js';
import { SetContext, stderrEvents } from './sets.js';

// ---------------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------------

export async function runInspect(argv: string[]): Promise<number> {
  const model = argv.find((a, i) => !a.startsWith('--') && !['--feature-layer', '--input-shape'].includes(argv[i - 1] ?? ''));
  if (!model) throw new NapoodError('MODEL', 'the path of an ONNX model (napood inspect MODEL)', 'nothing');
  const values = parseCommand(inspectSpec, argv.filter((a) => a !== model));
  const classifier = await openModel(model, { featureLayer: stringOption(values, 'feature-layer'), inputShape: parseInputShape(stringOption(values, 'input-shape')) });
  try {
    process.stdout.write(values.json ? JSON.stringify(inspectReport(classifier), null, 2) + '\n' : inspectText(classifier));
  } finally {
    await classifier.release();
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// dump
// ---------------------------------------------------------------------------------------------

export async function runDump(argv: string[]): Promise<number> {
  const values = parseCommand(dumpSpec, argv);
  const out = stringOption(values, 'out', true);
  if (!out.toLowerCase().endsWith('.safetensors')) throw new NapoodError('--out', 'a file name ending in .safetensors', JSON.stringify(out));
  stringOption(values, 'model', true);
  const images = listOption(values, 'images');
  const input = stringOption(values, 'input');
  if ((images.length > 0) === (input !== undefined)) throw new NapoodError('--images / --input', 'exactly one of them', images.length ? 'both' : 'neither');
  // featureMap, pooled and logits are always saved: a --layers name must not collide with them.
  const clash = listOption(values, 'layers').flatMap((l) => l.split(',')).map((l) => l.trim()).find((l) => (DUMP_TENSORS as readonly string[]).includes(l) || l.startsWith('__'));
  if (clash !== undefined) throw new NapoodError('--layers', `names of model tensors other than the dump's own ${DUMP_TENSORS.join(', ')} (featureMap, pooled and logits are always saved) and not starting with "__" (safetensors reserves __metadata__)`, JSON.stringify(clash));
  checkOutputs([{ flag: '--out', path: out }], [...images.map((p) => p.replace(/^@/, '')), input, stringOption(values, 'labels'), stringOption(values, 'model')].filter((p): p is string => p !== undefined));
  const progress = progressLine();
  const events = stderrEvents(progress);
  const sets = await SetContext.create(values, events);
  const model = sets.model!;
  let source: ModelSource | undefined;
  let writer: ReturnType<typeof openSafetensorsStream> | undefined;
  try {
    source = await sets.openModelInput(input ? [input] : images, input ? '--input' : '--images', 'features', stringOption(values, 'labels'));
    writer = openSafetensorsStream(out, '--out');
    const report = progress.update('dump');
    const info = model.info;
    const [c, h, w] = info.featureShape;
    writer.addTensor('featureMap', 'F32', [c, h, w]);
    if (info.pooledDim !== undefined) writer.addTensor('pooled', 'F32', [info.pooledDim]);
    writer.addTensor('logits', 'F32', [info.numClasses]);
    const withLabels = source.has('labels');
    if (withLabels) writer.addTensor('labels', 'I64', []);
    const paths: string[] = [];
    let declaredExtras = false;
    let done = 0;
    for await (const batch of source.batches()) {
      if (!declaredExtras) {
        for (const [name, t] of Object.entries(batch.extra)) writer.addTensor(name, 'F32', t.dims.slice(1));
        declaredExtras = true;
      }
      writer.write('featureMap', batch.featureMap!.data);
      if (batch.pooled) writer.write('pooled', batch.pooled.data);
      writer.write('logits', batch.logits!.data);
      if (withLabels) writer.write('labels', batch.labels ?? new Int32Array(batch.n).fill(-1));
      for (const [name, t] of Object.entries(batch.extra)) writer.write(name, t.data);
      if (batch.paths) paths.push(...batch.paths);
      done += batch.n;
      report(done, source.n, 'forward');
    }
    if (model.head?.linear) {
      writer.addTensor('head.weight', 'F32', [model.head.linear.c]);
      writer.write('head.weight', model.head.linear.weight);
      writer.addTensor('head.bias', 'F32', []);
      writer.write('head.bias', model.head.linear.bias);
    }
    progress.done();
    const summary = source.summary?.();
    if (summary) events.note!(summary);
    const metadata: Record<string, string> = {
      napood: 'dump', model: info.file, model_sha256: sha256File(info.file, '--model'), featureMap: info.featureMap, ...(info.pooled ? { pooled: info.pooled } : {}), logits: info.logits,
    };
    // Which image each row holds, and the class names of the labels (safetensors metadata is text).
    if (paths.length === done) metadata.paths = JSON.stringify(paths);
    if (source.classes && source.classes.length > 0) metadata.classes = JSON.stringify(source.classes);
    writer.commit(metadata);
    return 0;
  } catch (err) {
    writer?.abort();
    throw err;
  } finally {
    progress.done();
    source?.close();
    await sets.close();
  }
}

