import { describe, expect, it } from "vitest";
import { decodeMatrix, encodeMatrix, encodedSize, HEADER_BYTES, MatrixCodecError } from "../core/codec";

function randomBits(n: number, seed = 7): Float32Array {
  const u = new Uint32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    u[i] = x;
  }
  return new Float32Array(u.buffer);
}

function codecError(f: () => unknown): MatrixCodecError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MatrixCodecError);
    return e as MatrixCodecError;
  }
  throw new Error("expected a MatrixCodecError");
}

describe("matrix codec", () => {
  it("round-trips every float32 bit pattern exactly, including NaN payloads and -0", () => {
    const data = randomBits(12 * 7);
    data[0] = -0;
    data[1] = Number.POSITIVE_INFINITY;
    const decoded = decodeMatrix(encodeMatrix(data, 12, 7));
    expect([decoded.rows, decoded.cols]).toEqual([12, 7]);
    expect(new Uint32Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length)).toEqual(new Uint32Array(data.buffer));
  });

  it("uses 4 bytes a cell plus a 24-byte header", () => {
    expect(encodeMatrix(new Float32Array(30), 10, 3).byteLength).toBe(HEADER_BYTES + 120);
    expect(encodedSize(100_000, 50)).toBe(24 + 20_000_000);
  });

  it("writes an explicit header: magic, version, dtype, endianness, shape", () => {
    const b = encodeMatrix(new Float32Array(6), 2, 3);
    const v = new DataView(b.buffer, b.byteOffset);
    expect(String.fromCharCode(...b.subarray(0, 4))).toBe("SMX1");
    expect([v.getUint16(4, true), v.getUint8(6), v.getUint8(7), v.getUint32(8, true), v.getUint32(12, true)]).toEqual([1, 1, 0, 2, 3]);
  });

  it("decodes from an unaligned buffer (pooled Buffers are often unaligned)", () => {
    const enc = encodeMatrix(randomBits(15), 5, 3);
    const padded = new Uint8Array(enc.byteLength + 1);
    padded.set(enc, 1);
    const d = decodeMatrix(padded.subarray(1));
    expect(Array.from(d.data).map((x) => (Number.isNaN(x) ? "NaN" : x))).toEqual(Array.from(randomBits(15)).map((x) => (Number.isNaN(x) ? "NaN" : x)));
  });

  it("decodes a Node Buffer at an odd offset inside a larger pool", () => {
    const enc = encodeMatrix(new Float32Array([1.5, 2.5, 3.5, 4.5]), 2, 2);
    const pool = Buffer.alloc(enc.byteLength + 3);
    pool.set(enc, 3);
    expect(Array.from(decodeMatrix(pool.subarray(3)).data)).toEqual([1.5, 2.5, 3.5, 4.5]);
  });

  it("rejects truncated bytes with a typed error", () => {
    const enc = encodeMatrix(randomBits(20), 4, 5);
    expect(codecError(() => decodeMatrix(enc.subarray(0, 10))).reason).toBe("truncated");
    expect(codecError(() => decodeMatrix(enc.subarray(0, enc.length - 1))).reason).toBe("truncated");
    expect(codecError(() => decodeMatrix(new Uint8Array(0))).reason).toBe("truncated");
  });

  it("rejects every single-bit flip in the cells and in the header", () => {
    const enc = encodeMatrix(randomBits(8), 2, 4);
    for (let i = 0; i < enc.length; i++) {
      for (const bit of [0, 3, 7]) {
        const bad = enc.slice();
        bad[i] ^= 1 << bit;
        if (i >= 20 && i < 24) continue; // reserved bytes are not interpreted
        expect(() => decodeMatrix(bad), `byte ${i} bit ${bit}`).toThrow(MatrixCodecError);
      }
    }
  });

  it("rejects extra trailing bytes, other magic and unknown versions", () => {
    const enc = encodeMatrix(randomBits(4), 2, 2);
    const longer = new Uint8Array(enc.length + 4);
    longer.set(enc);
    expect(codecError(() => decodeMatrix(longer)).reason).toBe("length-mismatch");
    const magic = enc.slice();
    magic[0] = 0x58;
    expect(codecError(() => decodeMatrix(magic)).reason).toBe("bad-magic");
    const version = enc.slice();
    version[4] = 9;
    expect(codecError(() => decodeMatrix(version)).reason).toBe("unsupported");
    expect(codecError(() => decodeMatrix(new TextEncoder().encode("{\"not\":\"a matrix\"}________"))).reason).toBe("bad-magic");
  });
});
