// napood detectors (README "Detectors"): tune a method and its NAP-X weight w on ID-val images
// against corrupted copies of them (no OOD data), calibrate a threshold on held-out ID images,
// save one detector file; later load it with the model and check new inputs.
// Run from the repository root: node examples/detector.mjs [MODEL] [ID_TRAIN] [ID_VAL] [ID_CAL] [INPUTS] [TPR]
// (sets are image files, folders or @list.txt files; ID_VAL and ID_CAL must not share images).
import { loadDetector, openModel } from 'napood/node';

const [model = 'test/fixtures/pipeline/model.onnx', train = 'test/fixtures/images/tree', val = '@val.txt', cal = '@cal.txt',
  inputs = 'test/fixtures/images/extra', tpr = '0.95'] = process.argv.slice(2);

const od = await openModel(model, { preprocess: 'cifar' });
const report = await od.tune(val, { train, methods: 'nap,energy,msp,nap-e,nap-r' });   // scores ID-val and pseudo-OOD once
console.log(`chosen: ${report.chosen} (AUROC ${report.candidates[0].auroc.toFixed(2)} % on ID-val vs pseudo-OOD)`);
const detector = await od.calibrate(cal, { tpr: Number(tpr) });   // threshold at 95 % ID TPR, conformal p-values
await detector.save('/tmp/napood-example.detector');              // written whole or not at all
await od.release();

const d = await loadDetector('/tmp/napood-example.detector', { model });   // refuses a different model (sha256)
const { rows } = await d.check(inputs);                                    // also: bytes, pixels, .npy, dumps
for (const r of rows) console.log(`${r.name}  ${r.ood ? 'OOD' : 'ID '}  score ${r.score.toFixed(4)}  p ${r.pValue.toFixed(3)}  class ${r.predicted} (${r.confidence.toFixed(2)})`);
await d.release();
