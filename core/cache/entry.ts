// Hot-tier entry: the matrix metadata and the codec's bytes in one checksummed blob, so a hot hit
// returns the recycling multiples too without touching PostgreSQL.
//   0 magic "SMXE" u32 LE   4 metadata length u32   8 CRC-32 of the metadata u32   12 metadata JSON   … codec bytes
import { crc32 } from "node:zlib";
import { decodeMatrix, MatrixCodecError, type DecodedMatrix } from "../codec";
import type { MatrixMeta } from "./ports";

const ENTRY_MAGIC = 0x45584d53; // "SMXE"
const ENTRY_HEADER = 12;

export function encodeEntry(meta: MatrixMeta, matrixBytes: Uint8Array): Uint8Array {
  // Pad the JSON with spaces to a multiple of 4 so the cells start 4-aligned and decode without a copy.
  const json = JSON.stringify(meta);
  const metaBytes = new TextEncoder().encode(json.padEnd(json.length + ((4 - (Buffer.byteLength(json) % 4)) % 4), " "));
  const out = new Uint8Array(ENTRY_HEADER + metaBytes.length + matrixBytes.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, ENTRY_MAGIC, true);
  v.setUint32(4, metaBytes.length, true);
  v.setUint32(8, crc32(metaBytes) >>> 0, true);
  out.set(metaBytes, ENTRY_HEADER);
  out.set(matrixBytes, ENTRY_HEADER + metaBytes.length);
  return out;
}

/** Validates both checksums; throws MatrixCodecError on anything malformed. */
export function decodeEntry(bytes: Uint8Array): { meta: MatrixMeta; matrix: DecodedMatrix; matrixBytes: Uint8Array } {
  if (bytes.byteLength < ENTRY_HEADER) throw new MatrixCodecError("entry shorter than its header", "truncated");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== ENTRY_MAGIC) throw new MatrixCodecError("not a cache entry (bad magic)", "bad-magic");
  const metaLen = v.getUint32(4, true);
  if (ENTRY_HEADER + metaLen > bytes.byteLength) throw new MatrixCodecError("entry metadata truncated", "truncated");
  const metaBytes = bytes.subarray(ENTRY_HEADER, ENTRY_HEADER + metaLen);
  if ((crc32(metaBytes) >>> 0) !== v.getUint32(8, true)) {
    throw new MatrixCodecError("entry metadata checksum mismatch", "checksum-mismatch");
  }
  let meta: MatrixMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes)) as MatrixMeta;
  } catch (cause) {
    throw new MatrixCodecError("entry metadata is not JSON", "unsupported", { cause });
  }
  const matrixBytes = bytes.subarray(ENTRY_HEADER + metaLen);
  return { meta, matrix: decodeMatrix(matrixBytes), matrixBytes };
}
