/**
 * What each command takes: its options, usage and examples (for --help and parsing). Pure data:
 * `napood --help` and `napood methods` load nothing else.
 */
import type { CommandSpec } from './args.js';
import { PREPROCESS_OPTIONS } from '../node/images/preprocess-flags.js';

const commonOptions = {
  fit: { type: 'string', value: 'DUMP', help: 'ID-train features for methods that fit statistics (mahalanobis, react, dice, knn, vim, nap-r, nap-d)' },
  state: { type: 'string', value: 'FILE', help: 'fitted state saved by `napood fit` (instead of --fit)' },
  head: { type: 'string', value: 'FILE', help: 'classifier head (head.weight [K,C], head.bias [K]) when the dumps lack it' },
  'batch-rows': { type: 'string', value: 'N', help: 'rows per batch (default: about 32 MB of features per batch)' },
} as const;

export const modelOptions = {
  model: { type: 'string', value: 'MODEL', help: 'an ONNX image classifier; sets are then images (files, folders, @list.txt), preprocessed NCHW .npy tensors, or dumps made with this model' },
  'feature-layer': { type: 'string', value: 'NAME', help: 'use this tensor as the feature map instead of the one found before global pooling' },
  'batch-size': { type: 'string', value: 'N', help: 'images per forward pass (default 32)' },
  threads: { type: 'string', value: 'N', help: 'onnxruntime intra-op threads (default: onnxruntime\'s choice)' },
  'input-shape': { type: 'string', value: 'C,H,W', help: 'image size for a model whose input dims are symbolic (default: the size of --size / --preset / --preprocess)' },
} as const;

/** Options that turn sets into model input (score / eval / fit share them). */
export const modelSetOptions = {
  ...modelOptions,
  classes: { type: 'string', value: 'FILE', help: 'with --model: class names in the model\'s output order, one per line (class folders are mapped through it)' },
  'channel-mismatch': { type: 'string', value: 'convert|skip|error', help: 'with --model: images whose channel count differs from the model input (default convert, as PIL convert; counted on stderr)' },
  ...PREPROCESS_OPTIONS,
} as const;

/** Options of the commands that fit ID statistics on images (score, eval, fit). */
export const fitSampleOptions = {
  'fit-sample': { type: 'string', value: 'N', help: 'with --model: fit on a seeded random sample of N of the --fit images (e.g. 10000 of a large training set)' },
  'sample-seed': { type: 'string', value: 'S', help: 'seed of --fit-sample (default 0)' },
  'fit-labels': { type: 'string', value: 'Y.npy', help: 'with --model and a preprocessed .npy --fit: its labels (1-D, N; for mahalanobis)' },
} as const;

/** eval only: labels of a preprocessed .npy --id set (for the ID accuracy). */
export const idLabelsOption = {
  'id-labels': { type: 'string', value: 'Y.npy', help: 'with --model and a preprocessed .npy --id: its labels (1-D, N; for the ID accuracy)' },
} as const;

export const scoreSpec: CommandSpec = {
  name: 'score',
  summary: 'score every sample of a feature dump (or images run through an ONNX model) with one method',
  usage: 'napood score --features DUMP --method SPEC [--fit TRAIN_DUMP | --state FILE] --out FILE.npy|FILE.csv\n       napood score --model MODEL.onnx --features IMAGES|X.npy --method SPEC [--fit IMAGES] [preprocessing] --out FILE.npy|FILE.csv',
  options: {
    features: { type: 'string', value: 'DUMP', help: 'feature dump: a .safetensors file or a directory of .npy files (with --model: images, a folder, @list.txt or an NCHW .npy)' },
    method: { type: 'string', value: 'SPEC', help: 'method with optional parameters, e.g. nap, nap:eps=1,p=2, nap-e:w=0.4, ash-s:p=95 (--methods is the same option)' },
    methods: { type: 'string', value: 'SPEC', help: 'the same as --method (one method)' },
    out: { type: 'string', value: 'FILE', help: 'scores: .npy (float64, shape [N]) or .csv (a header, then one row per sample: "score", or "path,score" for images and dumps made from images)' },
    ...commonOptions,
    ...modelSetOptions,
    ...fitSampleOptions,
  },
  examples: [
    'napood score --features test.safetensors --method nap --out nap.npy',
    'napood score --model resnet18.onnx --preset imagenet --features photos/ --method nap --out nap.csv',
    'napood score --features test/ --method react:p=90 --fit train/ --out react.csv',
  ],
};

export const evalSpec: CommandSpec = {
  name: 'eval',
  summary: 'evaluate methods on ID vs OOD sets (dumps, or images with --model) and print the paper\'s table (FPR95, AUROC per OOD set, average)',
  usage: 'napood eval --id DUMP --ood NAME=DUMP [--ood NAME=DUMP …] --methods SPEC,SPEC,… [--fit TRAIN_DUMP] [--json FILE] [--csv FILE] [--md FILE]\n       napood eval --model MODEL.onnx --id IMAGES --ood NAME=IMAGES […] --methods … [--fit IMAGES] [preprocessing]   (IMAGES: files, a folder, @list.txt, an NCHW .npy, or a dump made with this model)',
  options: {
    id: { type: 'string', value: 'DUMP', help: 'in-distribution test features (with --model: images, a folder, @list.txt or an NCHW .npy)' },
    ood: { type: 'string', multiple: true, value: 'NAME=DUMP', help: 'an OOD set (repeat for each set; with --model: images as for --id, a list file as @list.txt)' },
    methods: { type: 'string', value: 'LIST', help: 'comma-separated method specs, e.g. nap,energy,nap-e:w=0.4,react:p=90 (default: nap,energy,msp,maxlogit)' },
    method: { type: 'string', value: 'LIST', help: 'the same as --methods' },
    json: { type: 'string', value: 'FILE', help: 'write the full report as JSON (- for stdout: the table then goes to stderr)' },
    csv: { type: 'string', value: 'FILE', help: 'write one row per method and OOD set as CSV' },
    md: { type: 'string', value: 'FILE', help: 'write the table as Markdown' },
    bootstrap: { type: 'string', value: 'N', help: 'bootstrap replicates for 95% intervals of FPR95 and AUROC (default 1000; 0 = none; at most 100000)' },
    seed: { type: 'string', value: 'S', help: 'bootstrap seed (default 0)' },
    ...commonOptions,
    ...modelSetOptions,
    ...fitSampleOptions,
    ...idLabelsOption,
  },
  examples: [
    'napood eval --model resnet18.onnx --preset imagenet --id val/ --ood textures=dtd/ --fit train/ --methods nap,energy,react,odin',
    'napood eval --id id.safetensors --ood svhn=svhn.safetensors --ood lsun=lsun.safetensors --methods nap,energy,nap-e:w=0.4',
    'napood eval --id id/ --ood textures=tex/ --methods react,dice,nap-r --fit train/ --json report.json',
  ],
};

export const fitSpec: CommandSpec = {
  name: 'fit',
  summary: 'fit the ID statistics of methods once and save them as JSON (reuse with --state)',
  usage: 'napood fit --fit TRAIN_DUMP --methods SPEC,SPEC,… --out STATE.json\n       napood fit --model MODEL.onnx --fit IMAGES --methods SPEC,SPEC,… [preprocessing] --out STATE.json',
  options: {
    fit: commonOptions.fit,
    methods: { type: 'string', value: 'LIST', help: 'comma-separated method specs to fit' },
    method: { type: 'string', value: 'LIST', help: 'the same as --methods' },
    out: { type: 'string', value: 'FILE', help: 'state file (JSON)' },
    head: commonOptions.head,
    'batch-rows': commonOptions['batch-rows'],
    ...modelSetOptions,
    ...fitSampleOptions,
  },
  examples: [
    'napood fit --fit train.safetensors --methods react,dice,knn:k=50 --out state.json',
    'napood fit --model resnet18.onnx --preset imagenet --fit train/ --methods react,mahalanobis --out state.json',
  ],
};

export const methodsSpec: CommandSpec = {
  name: 'methods',
  summary: 'list the scoring methods, what they need and their parameters',
  usage: 'napood methods [--json]',
  options: { json: { type: 'boolean', help: 'machine-readable list' } },
  examples: ['napood methods'],
};

export const inspectSpec: CommandSpec = {
  name: 'inspect',
  summary: 'show what napood finds in an ONNX model: input, feature map before pooling, head, candidate layers',
  usage: 'napood inspect MODEL [--json] [--feature-layer NAME] [--input-shape C,H,W]',
  options: {
    json: { type: 'boolean', help: 'machine-readable report' },
    'feature-layer': modelOptions['feature-layer'],
    'input-shape': { type: 'string', value: 'C,H,W', help: 'image size for a model whose input dims are symbolic (inspect takes no preprocessing flags)' },
  },
  examples: ['napood inspect resnet18.onnx', 'napood inspect model.onnx --json', 'napood inspect convnext.onnx --input-shape 3,224,224'],
};

export const dumpSpec: CommandSpec = {
  name: 'dump',
  summary: 'run an ONNX model over images (or a preprocessed tensor) and write a feature dump (.safetensors)',
  usage: 'napood dump --model MODEL (--images PATH [--images PATH …] | --input X.npy [--labels Y.npy]) [--layers NAME,…] [preprocessing] --out DUMP.safetensors',
  options: {
    images: { type: 'string', multiple: true, value: 'PATH', help: 'image files, folders (a folder per class gives labels) or @list.txt (repeat for more)' },
    input: { type: 'string', value: 'X.npy', help: 'an already-preprocessed NCHW float32 tensor' },
    labels: { type: 'string', value: 'Y.npy', help: 'labels for --input (1-D, N)' },
    layers: { type: 'string', multiple: true, value: 'NAME,…', help: 'more tensors to save (e.g. for multi-layer NAP): names as napood inspect lists them' },
    out: { type: 'string', value: 'FILE', help: 'the dump to write (.safetensors)' },
    ...modelSetOptions,
  },
  examples: [
    'napood dump --model resnet18.onnx --preset imagenet --images val/ --out val.safetensors',
    'napood inspect model.onnx   # lists the layer names, e.g. /layer3/layer3.1/relu_1/Relu_output_0',
    'napood dump --model model.onnx --input x.npy --layers /layer3/layer3.1/relu_1/Relu_output_0 --out x.safetensors',
  ],
};

export const corruptSpec: CommandSpec = {
  name: 'corrupt',
  summary: 'write ImageNet-C / CIFAR-C corrupted copies of images (the pseudo-OOD of napood tune), as PNG files',
  usage: 'napood corrupt --images PATH [--images PATH …] --out DIR [--corruptions LIST] [--severities LIST] [--seed S] [--params auto|cifar|imagenet] [--assignment all|random]',
  options: {
    images: { type: 'string', multiple: true, value: 'PATH', help: 'image files, folders or @list.txt (repeat for more)' },
    out: { type: 'string', value: 'DIR', help: 'a new folder: DIR/<corruption>/<severity>/*.png, DIR/corruptions.csv, DIR/list.txt' },
    corruptions: { type: 'string', value: 'LIST', help: 'comma-separated corruption names (default: the 15 of ImageNet-C; extras: speckle_noise, gaussian_blur, spatter, saturate)' },
    severities: { type: 'string', value: 'LIST', help: 'comma-separated severities in 1..5 (default all)' },
    seed: { type: 'string', value: 'S', help: 'seed of the random streams (default 0)' },
    params: { type: 'string', value: 'auto|cifar|imagenet', help: "parameter table: CIFAR-C's for images up to 64 px on the longer side, ImageNet-C's above (default auto)" },
    assignment: { type: 'string', value: 'all|random', help: 'every corruption × severity per image (all, default), or one drawn per image (random)' },
  },
  examples: [
    'napood corrupt --images val/ --out val-c/',
    'napood corrupt --images photo.jpg --corruptions fog,snow,jpeg_compression --severities 3,5 --out photo-c/',
  ],
};

export const reportSpec: CommandSpec = {
  name: 'report',
  summary: 'the paper\'s tables, sweeps, figures and claims for your models and sets, as a folder (index.html, report.json, tables, PNG figures)',
  usage: 'napood report CONFIG.json --out DIR [--threads N] [--bootstrap N] [--seed S]',
  options: {
    out: { type: 'string', value: 'DIR', help: 'the report folder: index.html (self-contained), report.json, tables/*.md|csv, figures/*.png|svg (new, empty, or an earlier report, which is replaced)' },
    threads: modelOptions.threads,
    bootstrap: { type: 'string', value: 'N', help: 'bootstrap replicates (overrides the config; 0 = no intervals)' },
    seed: { type: 'string', value: 'S', help: 'bootstrap and sampling seed (overrides the config)' },
  },
  examples: [
    'napood report examples/report/fixture.json --out report/',
    'napood report cifar10.json --out cifar10-report/ --threads 2   # the config format: README, "Reports"',
  ],
};

export const tuneSpec: CommandSpec = {
  name: 'tune',
  summary: 'choose a method and its NAP-X weight w without OOD data (ID-val vs its corrupted copies), then calibrate a threshold and write a detector file',
  usage: 'napood tune --model MODEL.onnx --val IMAGES [--fit IMAGES] [--methods LIST] [preprocessing] [--json FILE] [--cal IMAGES --out DETECTOR]\n       napood tune --val DUMP --pseudo-ood DUMP [--fit DUMP] [--methods LIST] [--cal DUMP --out DETECTOR]',
  options: {
    val: { type: 'string', value: 'SET', help: 'held-out ID validation images (files, a folder, @list.txt or a uint8 .npy), corrupted into pseudo-OOD data; with --pseudo-ood any set' },
    methods: { type: 'string', value: 'LIST', help: 'candidate methods (default nap,energy,msp,maxlogit,react,ash-s,nap-e,nap-r,nap-a,nap-m less those the sets cannot score); w of a NAP-X is tuned unless given (nap-e:w=0.4 keeps 0.4)' },
    method: { type: 'string', value: 'LIST', help: 'the same as --methods' },
    'pseudo-ood': { type: 'string', value: 'SET', help: 'a pseudo-OOD set of your own instead of corrupting --val (required with dumps)' },
    corruptions: { type: 'string', value: 'LIST', help: 'corruptions for the pseudo-OOD set (default: the 15 ImageNet-C benchmark ones)' },
    severities: { type: 'string', value: 'LIST', help: 'corruption severities 1–5 (default 3,4,5)' },
    assignment: { type: 'string', value: 'random|all', help: 'random (default): one seeded (corruption, severity) per image; all: every combination' },
    'corruption-seed': { type: 'string', value: 'S', help: 'seed of the corruptions (default 0)' },
    criterion: { type: 'string', value: 'auroc|fpr95', help: 'what the search maximises (AUROC, default) or minimises (FPR95), ID-val vs pseudo-OOD' },
    'grid-step': { type: 'string', value: 'X', help: 'step of the w grid on [0, 1] (default 0.05), refined by golden-section search' },
    tolerance: { type: 'string', value: 'X', help: 'width at which the golden-section refinement stops (default 0.001; 0: grid only)' },
    'nap-p': { type: 'string', value: 'LIST', help: 'also tune NAP\'s exponent p over these values (e.g. 1,2,3,4; default: p as given, 2)' },
    'oracle-ood': { type: 'string', multiple: true, value: 'NAME=SET', help: 'a real OOD test set: reports the w that would be best on it, separately (research only; never used to choose)' },
    json: { type: 'string', value: 'FILE', help: 'write the tune report as JSON (- for stdout: the table then goes to stderr)' },
    cal: { type: 'string', value: 'SET', help: 'held-out ID calibration set (not --fit, not --val) for the threshold and p-values of the detector' },
    tpr: { type: 'string', value: 'X', help: 'target ID true-positive rate of the threshold (default 0.95; needs n ≥ TPR/(1 − TPR) calibration images)' },
    bootstrap: { type: 'string', value: 'N', help: 'bootstrap replicates of the realised TPR interval (default 1000; 0 = none)' },
    seed: { type: 'string', value: 'S', help: 'bootstrap seed (default 0)' },
    out: { type: 'string', value: 'DETECTOR', help: 'write the detector file (.safetensors: fitted state, calibration, tune report; with --cal)' },
    fit: commonOptions.fit,
    head: commonOptions.head,
    'batch-rows': commonOptions['batch-rows'],
    ...modelSetOptions,
    ...fitSampleOptions,
  },
  examples: [
    'napood tune --model resnet18.onnx --preset imagenet --val val/ --fit train/ --cal cal/ --out resnet18.detector',
    'napood tune --model model.onnx --preset cifar --val val/ --methods nap-e,nap-m --nap-p 1,2,3 --json tune.json',
    'napood tune --val val.safetensors --pseudo-ood val-corrupted.safetensors --fit train.safetensors --cal cal.safetensors --out d.safetensors',
  ],
};

export const calibrateSpec: CommandSpec = {
  name: 'calibrate',
  summary: 'write a detector file for a method you fix yourself (nothing tuned, no --val): fit it, calibrate its threshold on held-out ID data',
  usage: 'napood calibrate --model MODEL.onnx --methods METHOD --cal IMAGES [--fit IMAGES] [preprocessing] [--tpr X] --out DETECTOR [--json FILE]\n       napood calibrate --methods METHOD --cal DUMP [--fit DUMP] --out DETECTOR',
  options: {
    methods: { type: 'string', value: 'METHOD', help: 'the one method, its parameters fixed: a NAP-X with its w (nap-e:w=0.5; nap-e alone is refused: its w is what napood tune --val searches), other methods as given or with their defaults (energy, react:p=95)' },
    method: { type: 'string', value: 'METHOD', help: 'the same as --methods' },
    cal: { type: 'string', value: 'SET', help: 'held-out ID calibration set (not --fit) for the threshold and p-values of the detector (required)' },
    tpr: tuneSpec.options.tpr!,
    bootstrap: tuneSpec.options.bootstrap!,
    seed: tuneSpec.options.seed!,
    out: { type: 'string', value: 'DETECTOR', help: 'write the detector file (.safetensors: fitted state, calibration; method.chosen_by "user", no tune report)' },
    json: { type: 'string', value: 'FILE', help: 'write the calibration summary as JSON (- for stdout: the text then goes to stderr)' },
    fit: commonOptions.fit,
    state: commonOptions.state,
    head: commonOptions.head,
    'batch-rows': commonOptions['batch-rows'],
    ...modelSetOptions,
    ...fitSampleOptions,
  },
  examples: [
    'napood calibrate --model model.onnx --preset cifar --methods nap-e:w=0.5 --cal cal/ --out model.detector',
    'napood calibrate --model model.onnx --preset cifar --methods nap-r:w=0.4 --fit train/ --cal cal/ --tpr 0.99 --out model.detector --json cal.json',
    'napood calibrate --methods energy --cal cal.safetensors --out d.safetensors   # feature dumps: no --model',
  ],
};

export const checkSpec: CommandSpec = {
  name: 'check',
  summary: 'say ID or OOD for each input with a detector file: score, p-value, verdict, predicted class and confidence',
  usage: 'napood check --detector DETECTOR [--model MODEL.onnx] [--alpha A] [--table | --tsv | --json | --csv] [--fail-on-ood] INPUT…   (INPUT: image files, folders, @list.txt, .npy tensors, dumps)\n'
    + '       Output: an aligned table on a terminal; tab-separated values when stdout is a pipe or a file (header path, score, p_value, verdict, class, confidence; one line per input, no padding, full-precision numbers; a backslash, tab, newline or CR in a path written as \\\\, \\t, \\n, \\r); the summary line on stderr',
  options: {
    detector: { type: 'string', value: 'FILE', help: 'a detector file written by napood tune --out or napood calibrate --out' },
    model: { type: 'string', value: 'MODEL', help: 'the ONNX model the detector was made with (its sha256 must match); not needed for dumps' },
    alpha: { type: 'string', value: 'A', help: 'OOD iff p-value ≤ A: the share of ID inputs you accept to flag (default: the detector\'s, 1 − its TPR)' },
    table: { type: 'boolean', help: 'the aligned table even when stdout is not a terminal (e.g. | less)' },
    tsv: { type: 'boolean', help: 'tab-separated values with a header even on a terminal (the default when stdout is not one)' },
    json: { type: 'boolean', help: 'one JSON object per input (JSON lines)' },
    csv: { type: 'boolean', help: 'CSV with a header (RFC 4180 quoting)' },
    'fail-on-ood': { type: 'boolean', help: 'exit with code 3 when any input is OOD' },
    'batch-size': modelOptions['batch-size'],
    threads: modelOptions.threads,
    'channel-mismatch': modelSetOptions['channel-mismatch'],
  },
  examples: [
    'napood check --detector resnet18.detector --model resnet18.onnx photos/',
    'napood check --detector d.safetensors --model m.onnx --alpha 0.01 --json a.png b.jpg',
    'napood check --detector d.safetensors --model m.onnx --fail-on-ood @incoming.txt || echo "OOD inputs"',
    "napood check --detector d.safetensors --model m.onnx photos/ | awk -F'\\t' 'NR > 1 && $4 == \"OOD\" { print $1 }'   # TSV in a pipe",
  ],
};
