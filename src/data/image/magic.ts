// What an image file really is, from its first bytes, and what its extension claims. Decoders (sharp
// included) look at the bytes, so a PNG named .jpg decodes fine — but tools that trust the name
// (browsers serving the file, some converters, a later re-encode "to the same format") do not.

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'avif' | 'heif';

const ascii = (b: Uint8Array, at: number, s: string) => {
  for (let k = 0; k < s.length; k++) if (b[at + k] !== s.charCodeAt(k)) return false;
  return true;
};

/** The image format the bytes start with, or undefined when no known signature matches. */
export function sniffFormat(b: Uint8Array): ImageFormat | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 'PNG\r\n\x1a\n')) return 'png';
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return 'gif';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'webp';
  if (ascii(b, 0, 'BM') && b.length >= 14) return 'bmp';
  if (ascii(b, 0, 'II*\0') || ascii(b, 0, 'MM\0*')) return 'tiff';
  // ISO base media file: a `ftyp` box whose major or compatible brands name the format.
  if (b.length >= 16 && ascii(b, 4, 'ftyp')) {
    const size = Math.min(b.length, ((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number));
    const brands: string[] = [];
    for (let at = 8; at + 4 <= size; at += 4) if (at !== 12) brands.push(String.fromCharCode(...b.subarray(at, at + 4)));
    if (brands.includes('avif') || brands.includes('avis')) return 'avif';
    if (brands.some((x) => ['heic', 'heix', 'hevc', 'mif1', 'msf1'].includes(x))) return 'heif';
  }
  return undefined;
}

const BY_EXTENSION: Record<string, ImageFormat> = {
  jpg: 'jpeg',
  jpeg: 'jpeg',
  jpe: 'jpeg',
  jfif: 'jpeg',
  png: 'png',
  gif: 'gif',
  webp: 'webp',
  bmp: 'bmp',
  tif: 'tiff',
  tiff: 'tiff',
  avif: 'avif',
  heic: 'heif',
  heif: 'heif',
};

/** The format a file name claims, or undefined when its extension is not an image extension. */
export function formatFromName(name: string): ImageFormat | undefined {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? undefined : BY_EXTENSION[base.slice(dot + 1).toLowerCase()];
}

/**
 * Whether the bytes end where the format says a complete file ends. Used only to tell a truncated
 * file from an otherwise corrupt one once decoding has failed: some writers append data after the
 * end marker, so a missing marker alone is not an error.
 */
export function hasEndMarker(b: Uint8Array, format: ImageFormat): boolean | undefined {
  const n = b.length;
  if (format === 'jpeg') {
    // EOI (FF D9), possibly followed by padding or trailing bytes some cameras add: look near the end.
    for (let k = n - 2; k >= Math.max(0, n - 4096); k--) if (b[k] === 0xff && b[k + 1] === 0xd9) return true;
    return false;
  }
  if (format === 'png') return n >= 12 && ascii(b, n - 8, 'IEND');
  if (format === 'gif') return b[n - 1] === 0x3b;
  return undefined;
}
