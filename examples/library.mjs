// napood as a library, in Node (README "Library"): open a model with its preprocessing, fit
// methods on ID-train images, score images, evaluate ID vs OOD sets, save the fitted state.
// Run from the repository root: node examples/library.mjs [MODEL] [ID_TRAIN] [ID_TEST] [OOD]
import { openModel, textTable } from 'napood/node';

const [model = 'test/fixtures/pipeline/model.onnx', train = 'test/fixtures/images/tree', id = 'test/fixtures/images/tree', ood = 'test/fixtures/images/extra'] = process.argv.slice(2);

const od = await openModel(model, { preprocess: 'cifar' });
await od.fit('nap,energy,react,nap-e', train);          // react and nap-e fit ID statistics
const { scores, names } = await od.score(id);          // higher = more in-distribution
console.log(`${names[0]}: NAP ${scores.nap[0].toFixed(4)}`);
const report = await od.evaluate(id, { ood }, { bootstrap: 0 });
console.log(textTable(report));
await od.saveState('/tmp/napood-example-state.json');   // reuse with od.loadStateFile(...)
await od.release();
