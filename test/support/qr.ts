/**
 * Reads a QR code back from the SVG the server sent, as a phone camera would read the
 * screen: the SVG's dark strokes are drawn into a bitmap, and jsQR (an independent
 * decoder) reads that bitmap.
 */
import jsQR from 'jsqr';

const SCALE = 6;

export function decodeQrSvg(svg: string): string {
  const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  const path = /<path stroke="#000000" d="([^"]+)"/.exec(svg);
  if (!viewBox || !path) throw new Error('not an SVG QR code of the expected shape');
  const size = Number(viewBox[1]);
  // One byte per cell of the code: 1 where the path draws a dark run.
  const dark = new Uint8Array(size * size);
  // Commands: M x y (absolute move), m dx dy (relative move), h n (a dark run of n cells).
  let x = 0;
  let y = 0;
  for (const [, command, a, b] of path[1]!.matchAll(/([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?/g)) {
    if (command === 'M') [x, y] = [Number(a), Number(b)];
    else if (command === 'm') [x, y] = [x + Number(a), y + Number(b)];
    else {
      const row = Math.floor(y);
      for (let i = 0; i < Number(a); i++) if (row >= 0 && row < size && x + i >= 0 && x + i < size) dark[row * size + x + i] = 1;
      x += Number(a);
    }
  }
  const width = size * SCALE;
  const pixels = new Uint8ClampedArray(width * width * 4).fill(255);
  for (let py = 0; py < width; py++) {
    for (let px = 0; px < width; px++) {
      if (dark[Math.floor(py / SCALE) * size + Math.floor(px / SCALE)]) {
        const offset = (py * width + px) * 4;
        pixels[offset] = pixels[offset + 1] = pixels[offset + 2] = 0;
      }
    }
  }
  const result = jsQR.default(pixels, width, width);
  if (!result) throw new Error('no QR code could be read');
  return result.data;
}
