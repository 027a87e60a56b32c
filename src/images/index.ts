/** Image input (SPEC §4.2), runtime-neutral: items and formats, preprocessing, pixel kernels. Re-exports only. */
export {
  IMAGE_EXTENSIONS, compareCodePoints, hasImageExtension, labelName, sampleItems, sniffFormat,
  type ImageFormat, type ImageItem, type ImageList,
} from './items.js';
export {
  INTERPOLATIONS, PREPROCESS_OPTIONS, PRESETS, SHARP_KERNELS, checkAgainstModel, cmykToRgb, convertChannels, imageShape,
  normalizeInto, parsePreprocess, preprocessForModel, preprocessFromFlags, readPreprocessFile, resizeGeometry,
  type ChannelOrder, type Interpolation, type Layout, type Preprocess, type PreprocessFlags, type PreprocessInput,
  type Resampler, type ResizeGeometry,
} from './preprocess.js';
export { resamplePil, type PilFilter, type ResampleWindow } from './resample.js';
