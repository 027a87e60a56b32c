/**
 * Image input in Node: the neutral parts, the file walker (folders, @lists), the Node decoder
 * (sharp, with png.ts on node:zlib for small PNGs), batching over file paths, and the
 * preprocessing flags / settings files. Re-exports only.
 */
export * from '../../images/index.js';
export { expandImageInputs, type ExpandOptions } from './sources.js';
export {
  PNG_FAST_MAX_PIXELS, decodeImage, imageBatches, loadImages, nodeImageDecoder, prepareImage, sharpDecoder,
  type DecodeOptions, type LoadOptions, type PrepareOptions, type SharpDecoderOptions,
} from './loader.js';
export { nodeZlib } from './zlib.js';
export { PREPROCESS_OPTIONS, preprocessFromFlags, readPreprocessFile, type PreprocessFlags } from './preprocess-flags.js';
