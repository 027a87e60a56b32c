/** Image input in Node: the neutral parts, the file walker (folders, @lists) and the sharp decoder. Re-exports only. */
export * from '../../images/index.js';
export { expandImageInputs, type ExpandOptions } from './sources.js';
export {
  DEFAULT_MAX_PIXELS, ImageSkip, decodeImage, imageBatches, loadImages, prepareImage,
  type DecodeOptions, type DecodedImage, type ImageBatch, type LoadOptions, type LoadStats, type LoadSummary,
  type PrepareOptions, type PreparedImage, type SkippedImage,
} from './loader.js';
