/** Image input (SPEC §4.2): sources, preprocessing, decoding and batching. Re-exports only. */
export {
  IMAGE_EXTENSIONS, compareCodePoints, expandImageInputs, hasImageExtension, labelName, sampleItems, sniffFormat,
  type ExpandOptions, type ImageFormat, type ImageItem, type ImageList,
} from './sources.js';
export {
  INTERPOLATIONS, PREPROCESS_OPTIONS, PRESETS, SHARP_KERNELS, checkAgainstModel, cmykToRgb, convertChannels, imageShape,
  normalizeInto, parsePreprocess, preprocessForModel, preprocessFromFlags, readPreprocessFile, resizeGeometry,
  type ChannelOrder, type Interpolation, type Layout, type Preprocess, type PreprocessFlags, type PreprocessInput,
  type Resampler, type ResizeGeometry,
} from './preprocess.js';
export {
  DEFAULT_MAX_PIXELS, ImageSkip, decodeImage, imageBatches, loadImages, prepareImage,
  type DecodeOptions, type DecodedImage, type ImageBatch, type LoadOptions, type LoadStats, type LoadSummary,
  type PrepareOptions, type PreparedImage, type SkippedImage,
} from './loader.js';
export { resamplePil, type PilFilter, type ResampleWindow } from './resample.js';
