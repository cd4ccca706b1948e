// Matrix codec: float32 row-major matrix <-> bytes with an explicit header and a CRC-32 checksum.
//
// Layout (little-endian), 24-byte header then rows*cols float32 cells:
//   0  magic "SMX1"        4  format version u16   6  dtype u8 (1 = float32)   7  endianness u8 (0 = LE)
//   8  rows u32           12  cols u32            16  CRC-32 of the cells u32   20  reserved u32 (0)
import { crc32 } from "node:zlib";

export const CODEC_MAGIC = 0x31584d53; // "SMX1" read as a little-endian u32
export const CODEC_FORMAT_VERSION = 1;
export const HEADER_BYTES = 24;
export const DTYPE_FLOAT32 = 1;
export const ENDIAN_LITTLE = 0;

const HOST_IS_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes that are not a valid encoded matrix: truncated, corrupted, or of another format. */
export class MatrixCodecError extends Error {
  override readonly name = "MatrixCodecError";
  constructor(
    message: string,
    readonly reason: "truncated" | "bad-magic" | "unsupported" | "length-mismatch" | "checksum-mismatch",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DecodedMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export function encodedSize(rows: number, cols: number): number {
  return HEADER_BYTES + rows * cols * 4;
}

/**
 * Allocates an encoded buffer and a float32 view over its cell area, so a generator can write cells
 * in place and `seal` can finish the header without copying the matrix (peak memory = 1x).
 */
export function allocateEncoded(rows: number, cols: number): { bytes: Uint8Array; cells: Float32Array } {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || rows * cols > 2 ** 28) {
    throw new RangeError(`invalid matrix shape ${rows}x${cols}`);
  }
  const buffer = new ArrayBuffer(encodedSize(rows, cols));
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  view.setUint32(0, CODEC_MAGIC, true);
  view.setUint16(4, CODEC_FORMAT_VERSION, true);
  view.setUint8(6, DTYPE_FLOAT32);
  view.setUint8(7, ENDIAN_LITTLE);
  view.setUint32(8, rows, true);
  view.setUint32(12, cols, true);
  return { bytes, cells: new Float32Array(buffer, HEADER_BYTES, rows * cols) };
}

/** Finishes an `allocateEncoded` buffer: byte order fixed to little-endian, checksum written. */
export function seal(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!HOST_IS_LE) swapWords(bytes.subarray(HEADER_BYTES));
  view.setUint32(16, crc32(bytes.subarray(HEADER_BYTES)) >>> 0, true);
  return bytes;
}

/** Copies a matrix into the codec's bytes. */
export function encodeMatrix(data: Float32Array, rows: number, cols: number): Uint8Array {
  if (data.length !== rows * cols) throw new RangeError(`data has ${data.length} cells, expected ${rows * cols}`);
  const { bytes, cells } = allocateEncoded(rows, cols);
  cells.set(data);
  return seal(bytes);
}

/** Validates header, length and checksum before exposing any cell; garbage is never decoded. */
export function decodeMatrix(input: Uint8Array): DecodedMatrix {
  if (input.byteLength < HEADER_BYTES) {
    throw new MatrixCodecError(`${input.byteLength} bytes is shorter than the header`, "truncated");
  }
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (view.getUint32(0, true) !== CODEC_MAGIC) throw new MatrixCodecError("not a matrix (bad magic)", "bad-magic");
  const version = view.getUint16(4, true);
  const dtype = view.getUint8(6);
  const endian = view.getUint8(7);
  if (version !== CODEC_FORMAT_VERSION || dtype !== DTYPE_FLOAT32 || endian !== ENDIAN_LITTLE) {
    throw new MatrixCodecError(`unsupported format v${version} dtype ${dtype} endian ${endian}`, "unsupported");
  }
  const rows = view.getUint32(8, true);
  const cols = view.getUint32(12, true);
  const expected = encodedSize(rows, cols);
  if (input.byteLength !== expected) {
    throw new MatrixCodecError(
      `${input.byteLength} bytes for a ${rows}x${cols} matrix that needs ${expected}`,
      input.byteLength < expected ? "truncated" : "length-mismatch",
    );
  }
  const body = input.subarray(HEADER_BYTES);
  if ((crc32(body) >>> 0) !== view.getUint32(16, true)) {
    throw new MatrixCodecError("checksum mismatch: the matrix bytes are corrupted", "checksum-mismatch");
  }
  // A Float32Array view needs 4-byte alignment; pooled Buffers often are not aligned, so copy then.
  // (Buffer#slice is a view, not a copy, so copy explicitly.)
  const aligned = (input.byteOffset + HEADER_BYTES) % 4 === 0;
  const data = aligned ? new Float32Array(input.buffer, input.byteOffset + HEADER_BYTES, rows * cols) : new Float32Array(copyBytes(body).buffer);
  if (!HOST_IS_LE) {
    const copy = copyBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    swapWords(copy);
    return { rows, cols, data: new Float32Array(copy.buffer) };
  }
  return { rows, cols, data };
}

function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.byteLength);
  out.set(b);
  return out;
}

function swapWords(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const a0 = b[i], a1 = b[i + 1];
    b[i] = b[i + 3];
    b[i + 1] = b[i + 2];
    b[i + 2] = a1;
    b[i + 3] = a0;
  }
}
