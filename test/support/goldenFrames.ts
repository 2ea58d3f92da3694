// A TAEHV golden's frames (`image` [T',3,H,W] in [0,1]) as 8-bit RGBA, for the video job tests.
import type { RgbaImage } from '../../src/model/rgba.js';
import type { VideoGolden } from './videoGolden.js';

export function goldenFrames(g: VideoGolden): RgbaImage[] {
  const [T, , H, W] = g.image.shape as number[];
  const plane = H! * W!;
  return Array.from({ length: T! }, (_, t) => {
    const data = new Uint8ClampedArray(plane * 4);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) data[4 * p + c] = Math.round(g.image.data[(t * 3 + c) * plane + p]! * 255);
      data[4 * p + 3] = 255;
    }
    return { width: W!, height: H!, data };
  });
}
