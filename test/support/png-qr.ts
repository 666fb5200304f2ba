/** Reads a QR code from a screenshot, as a phone's camera reads the screen. */
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

export function decodeQrPng(png: Buffer): string {
  const image = PNG.sync.read(png);
  const result = jsQR.default(new Uint8ClampedArray(image.data), image.width, image.height);
  if (!result) throw new Error('no QR code could be read from the screenshot');
  return result.data;
}
