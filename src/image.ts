// taesd-web/image: the image codecs alone (PNG, JPEG, APNG, contact sheets), for pages and tools
// that encode or show previews without the decoder. The main entries re-export all of it.
export type { RgbaImage } from './model/rgba.js';
export { decodeImage, encodeImage, type EncodeImageOptions, type ImageFormat } from './image/encode.js';
export { encodePng, type PngOptions } from './image/png.js';
export { encodeJpeg, type JpegOptions } from './image/jpeg.js';
export { toBase64, toDataUrl } from './image/base64.js';
export { downscale } from './image/downscale.js';
export { contactSheet, type ContactSheetOptions, type Rgba } from './image/contactSheet.js';
export { encodeApng, type ApngOptions } from './image/apng.js';
export { TaesdError, isTaesdError, type TaesdErrorCode, type TaesdErrorDetail, type TaesdErrorReason } from './errors.js';
