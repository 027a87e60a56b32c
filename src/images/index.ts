/**
 * Image input (SPEC §4.2), runtime-neutral: items and formats, preprocessing settings, the
 * decoder interface, the per-image pipeline (bytes or decoded pixels to the tensor), batching,
 * pixel kernels. Re-exports only.
 */
export {
  IMAGE_EXTENSIONS, compareCodePoints, describeBytes, hasImageExtension, labelName, sampleItems, sniffFormat,
  type ImageFormat, type ImageItem, type ImageList,
} from './items.js';
export { cmykToRgb, convertChannels, normalizeInto, resizeGeometry, type ResizeGeometry } from './pixels.js';
export {
  INTERPOLATIONS, PRESETS, SHARP_KERNELS, checkAgainstModel, imageShape, parsePreprocess,
  parsePreprocessFields, parsePreprocessText, preprocessForModel, type ChannelOrder, type Interpolation,
  type Layout, type Preprocess, type PreprocessInput, type Resampler,
} from './preprocess.js';
export { resamplePil, type PilFilter, type ResampleWindow } from './resample.js';
export {
  ImageSkip, withPngFastPath,
  type DecodeRequest, type DecodedImage, type ImageDecoder, type ImageInfo, type ResizeRequest,
} from './decoder.js';
export type { Inflate, PngZlib } from './png.js';
export {
  DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, checkImageHead, decodeImageBytes, maxImageFileBytes, prepareDecodedImage, prepareImageBytes,
  prepareImageInput, preprocessImage, readImageInfo,
  type DecodedPixels, type ImageHeadOptions, type ImageInput, type ImageTensor, type PrepareImageOptions, type PreparedImage, type PreprocessImageOptions,
} from './prepare.js';
export {
  concatBatches, imageSourceBatches, loadImageSources,
  type BatchOptions, type ImageBatch, type ImageSource, type LoadStats, type LoadSummary, type SkippedImage,
} from './batches.js';
