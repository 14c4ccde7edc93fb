// GGML tensor types and block dequantization (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K,
// Q5_K, Q6_K). Sources: ggml's reference `dequantize_row_*` (ggml/src/ggml-quants.c, block structs in
// ggml-common.h) and the `gguf` Python package's `quants.py`, whose arithmetic order is followed
// exactly, so results are bit-identical to `gguf.quants.dequantize`.
//
// A quantized tensor row is a run of blocks; each block stores `blockSize` values in `blockBytes`
// bytes. All multi-byte fields are little-endian; `f16` is an IEEE binary16 scale.
//
// Arithmetic order: `d * q + m` and `d * q - m` are two rounded operations (never fused), as numpy
// does them; ggml's C may fuse them into one FMA depending on compiler flags, which can differ from
// both in the last bit. Swift does not fuse `a * b + c` on its own.
import Tensor

// MARK: - Types

/// A GGML tensor type id (`enum ggml_type`) as stored in a GGUF tensor info.
package enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39, nvfp4 = 40, q1_0 = 41

    /// ggml's name ("Q4_K").
    package var description: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        case .iq2_xxs: "IQ2_XXS"
        case .iq2_xs: "IQ2_XS"
        case .iq3_xxs: "IQ3_XXS"
        case .iq1_s: "IQ1_S"
        case .iq4_nl: "IQ4_NL"
        case .iq3_s: "IQ3_S"
        case .iq2_s: "IQ2_S"
        case .iq4_xs: "IQ4_XS"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        case .iq1_m: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        case .mxfp4: "MXFP4"
        case .nvfp4: "NVFP4"
        case .q1_0: "Q1_0"
        }
    }

    /// (values per block, bytes per block) — ggml's `type_traits` table (`GGML_QUANT_SIZES` in gguf-py).
    package var blockLayout: (blockSize: Int, blockBytes: Int) {
        let qk = 256   // QK_K: values per super-block of the K-quants
        switch self {
        case .f32: return (1, 4)
        case .f16: return (1, 2)
        case .bf16: return (1, 2)
        case .f64: return (1, 8)
        case .i8: return (1, 1)
        case .i16: return (1, 2)
        case .i32: return (1, 4)
        case .i64: return (1, 8)
        case .q4_0: return (32, 2 + 16)
        case .q4_1: return (32, 2 + 2 + 16)
        case .q5_0: return (32, 2 + 4 + 16)
        case .q5_1: return (32, 2 + 2 + 4 + 16)
        case .q8_0: return (32, 2 + 32)
        case .q8_1: return (32, 4 + 4 + 32)
        case .q2_K: return (qk, 2 + 2 + qk / 16 + qk / 4)
        case .q3_K: return (qk, 2 + qk / 4 + qk / 8 + 12)
        case .q4_K: return (qk, 2 + 2 + 12 + qk / 2)
        case .q5_K: return (qk, 2 + 2 + 12 + qk / 8 + qk / 2)
        case .q6_K: return (qk, qk / 2 + qk / 4 + qk / 16 + 2)
        case .q8_K: return (qk, 4 + qk + qk / 8)
        case .iq2_xxs: return (qk, 2 + qk / 4)
        case .iq2_xs: return (qk, 2 + qk / 4 + qk / 32)
        case .iq3_xxs: return (qk, 2 + qk / 4 + qk / 8)
        case .iq1_s: return (qk, 2 + qk / 8 + qk / 16)
        case .iq4_nl: return (32, 2 + 16)
        case .iq3_s: return (qk, 2 + qk / 4 + qk / 8 + qk / 32 + 4)
        case .iq2_s: return (qk, 2 + qk / 4 + qk / 16)
        case .iq4_xs: return (qk, 2 + 2 + qk / 2 + qk / 64)
        case .iq1_m: return (qk, qk / 8 + qk / 16 + qk / 32)
        case .tq1_0: return (qk, 2 + 4 * 13)
        case .tq2_0: return (qk, 2 + 64)
        case .mxfp4: return (32, 1 + 16)
        case .nvfp4: return (64, 4 + 32)
        case .q1_0: return (128, 2 + 16)
        }
    }

    /// Whether this project can turn the type into Float.
    package var isDequantizable: Bool {
        switch self {
        case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K: true
        default: false
        }
    }

    /// The stored-tensor encoding for the types kernels read in place (F32, F16, BF16).
    package var scalarEncoding: ScalarEncoding? {
        switch self {
        case .f32: .float32
        case .f16: .float16
        case .bf16: .bfloat16
        default: nil
        }
    }
}

// MARK: - Field access

/// Little-endian loads from a block.
extension UnsafeRawPointer {
    @inline(__always) fileprivate func u8(_ offset: Int) -> UInt8 { load(fromByteOffset: offset, as: UInt8.self) }
    @inline(__always) fileprivate func i8(_ offset: Int) -> Int8 { load(fromByteOffset: offset, as: Int8.self) }
    @inline(__always) fileprivate func u16(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    @inline(__always) fileprivate func u32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    /// An f16 field, widened exactly.
    @inline(__always) fileprivate func f16(_ offset: Int) -> Float { floatFromHalfBits(u16(offset)) }
}

/// K-quant 6-bit scale and min of sub-block `j` (0..<8), packed in 12 bytes (ggml `get_scale_min_k4`):
///
///     byte  0..3 : mmSSSSSS  → scale[j]   = S (6 bits) for j < 4; the top 2 bits (mm) are bits 4-5 of scale[j+4]
///     byte  4..7 : mmMMMMMM  → min[j]     = M (6 bits) for j < 4; the top 2 bits are bits 4-5 of min[j+4]
///     byte 8..11 : MMMMSSSS  → scale[j+4] low 4 bits = S, min[j+4] low 4 bits = M
@inline(__always)
private func scaleMinK4(_ j: Int, _ scales: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
    if j < 4 {
        return (scales.u8(j) & 63, scales.u8(j + 4) & 63)
    }
    let scale = (scales.u8(j + 4) & 0xF) | ((scales.u8(j - 4) >> 6) << 4)
    let min = (scales.u8(j + 4) >> 4) | ((scales.u8(j) >> 6) << 4)
    return (scale, min)
}

// MARK: - Reference: one value at a time

/// Value `j` of one block, computed straight from the layout — the definition the fast block
/// decoders below are checked against (`dequantizeBlocks` equals it exactly, value for value).
package func dequantizedValueReference(_ type: GGMLType, block x: UnsafeRawPointer, index j: Int) -> Float {
    switch type {
    case .f32:
        return Float(bitPattern: x.u32(0))
    case .f16:
        return x.f16(0)
    case .bf16:
        return floatFromBFloat16Bits(x.u16(0))
    case .q8_0:
        // Q8_0: 34 bytes = d:f16 | qs: 32 × i8.                       y = qs[j] · d
        return Float(x.i8(2 + j)) * x.f16(0)
    case .q4_0:
        // Q4_0: 18 bytes = d:f16 | qs: 16 bytes; low nibbles → [0,16), high → [16,32).   y = d · (q − 8)
        let byte = x.u8(2 + j % 16)
        let q = j < 16 ? byte & 0xF : byte >> 4
        return x.f16(0) * Float(Int(q) - 8)
    case .q4_1:
        // Q4_1: 20 bytes = d:f16 | m:f16 | qs: 16 bytes; low nibbles → [0,16), high → [16,32).   y = d · q + m
        let byte = x.u8(4 + j % 16)
        let q = j < 16 ? byte & 0xF : byte >> 4
        return x.f16(0) * Float(q) + x.f16(2)
    case .q5_0:
        // Q5_0: 22 bytes = d:f16 | qh: u32 (bit j = 5th bit of value j) | qs: 16 bytes as Q4_0.   y = d · (q − 16)
        let byte = x.u8(6 + j % 16)
        let low = j < 16 ? byte & 0xF : byte >> 4
        let high = UInt8((x.u32(2) >> UInt32(j)) & 1)
        return x.f16(0) * Float(Int(low | high << 4) - 16)
    case .q5_1:
        // Q5_1: 24 bytes = d:f16 | m:f16 | qh: u32 | qs: 16 bytes.     y = d · q + m
        let byte = x.u8(8 + j % 16)
        let low = j < 16 ? byte & 0xF : byte >> 4
        let high = UInt8((x.u32(4) >> UInt32(j)) & 1)
        return x.f16(0) * Float(low | high << 4) + x.f16(2)
    case .q4_K:
        // Q4_K: 144 bytes = d:f16 | dmin:f16 | scales: 12 bytes (8 × 6-bit scale, 8 × 6-bit min) |
        //       qs: 128 bytes. Sub-block s = j/32 (32 values); sub-blocks 2p and 2p+1 share the bytes
        //       qs[32p ..< 32p+32], 2p in the low nibbles, 2p+1 in the high.   y = (d·scale) · q − (dmin·min)
        let s = j / 32
        let byte = x.u8(16 + 32 * (s / 2) + j % 32)
        let q = s % 2 == 0 ? byte & 0xF : byte >> 4
        let (scale, min) = scaleMinK4(s, x.advanced(by: 4))
        return (x.f16(0) * Float(scale)) * Float(q) - x.f16(2) * Float(min)
    case .q5_K:
        // Q5_K: 176 bytes = d:f16 | dmin:f16 | scales: 12 bytes | qh: 32 bytes | qs: 128 bytes as Q4_K;
        //       the 5th bit of value j is bit s of qh[j % 32].   y = (d·scale) · q − (dmin·min)
        let s = j / 32
        let byte = x.u8(48 + 32 * (s / 2) + j % 32)
        let low = s % 2 == 0 ? byte & 0xF : byte >> 4
        let high = (x.u8(16 + j % 32) >> UInt8(s)) & 1
        let (scale, min) = scaleMinK4(s, x.advanced(by: 4))
        return (x.f16(0) * Float(scale)) * Float(low | high << 4) - x.f16(2) * Float(min)
    case .q6_K:
        // Q6_K: 210 bytes = ql: 128 bytes (low 4 bits) | qh: 64 bytes (high 2 bits) | scales: 16 × i8 | d:f16.
        //       Two halves of 128 values; in half h, quarter c = 0…3 of 32 values, position l:
        //       low 4 bits from ql[64h + 32(c%2) + l] (low nibble for c < 2, high for c ≥ 2),
        //       high 2 bits from qh[32h + l] >> 2c.  One scale per 16 values.   y = (d·scale) · (q − 32)
        let h = j / 128, c = (j % 128) / 32, l = j % 32
        let qlByte = x.u8(64 * h + 32 * (c % 2) + l)
        let low = c < 2 ? qlByte & 0xF : qlByte >> 4
        let high = (x.u8(128 + 32 * h + l) >> UInt8(2 * c)) & 3
        let q = Int(low | high << 4) - 32
        return (x.f16(208) * Float(x.i8(192 + j / 16))) * Float(q)
    default:
        preconditionFailure("no dequantization for \(type); callers check isDequantizable")
    }
}

// MARK: - Fast: whole blocks

/// Decodes `blockCount` consecutive blocks of `type` from `x` into `y` (`blockCount × blockSize`
/// values). Follows ggml's `dequantize_row_*` loops; equal to `dequantizedValueReference` exactly.
package func dequantizeBlocks(_ type: GGMLType, from x: UnsafeRawPointer, blockCount: Int,
                              into y: UnsafeMutablePointer<Float>) {
    let (qk, size) = type.blockLayout
    switch type {
    case .f32:
        for i in 0..<blockCount { y[i] = Float(bitPattern: x.u32(4 * i)) }
    case .f16:
        for i in 0..<blockCount { y[i] = x.f16(2 * i) }
    case .bf16:
        for i in 0..<blockCount { y[i] = floatFromBFloat16Bits(x.u16(2 * i)) }
    case .q8_0:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(0)
            for j in 0..<32 { out[j] = Float(block.i8(2 + j)) * d }
        }
    case .q4_0:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(0)
            for j in 0..<16 {
                let byte = block.u8(2 + j)
                out[j] = d * Float(Int(byte & 0xF) - 8)
                out[j + 16] = d * Float(Int(byte >> 4) - 8)
            }
        }
    case .q4_1:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(0), m = block.f16(2)
            for j in 0..<16 {
                let byte = block.u8(4 + j)
                out[j] = d * Float(byte & 0xF) + m
                out[j + 16] = d * Float(byte >> 4) + m
            }
        }
    case .q5_0:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(0), qh = block.u32(2)
            for j in 0..<16 {
                let byte = block.u8(6 + j)
                let high0 = UInt8((qh >> UInt32(j)) & 1) << 4
                let high1 = UInt8((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = d * Float(Int(byte & 0xF | high0) - 16)
                out[j + 16] = d * Float(Int(byte >> 4 | high1) - 16)
            }
        }
    case .q5_1:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(0), m = block.f16(2), qh = block.u32(4)
            for j in 0..<16 {
                let byte = block.u8(8 + j)
                let high0 = UInt8((qh >> UInt32(j)) & 1) << 4
                let high1 = UInt8((qh >> UInt32(j + 16)) & 1) << 4
                out[j] = d * Float(byte & 0xF | high0) + m
                out[j + 16] = d * Float(byte >> 4 | high1) + m
            }
        }
    case .q4_K:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(0), dmin = block.f16(2), scales = block + 4, qs = block + 16
            for p in 0..<4 {                                  // 64 values: sub-blocks 2p, 2p+1
                let (sc1, m1) = scaleMinK4(2 * p, scales), (sc2, m2) = scaleMinK4(2 * p + 1, scales)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                for l in 0..<32 {
                    let byte = qs.u8(32 * p + l)
                    out[64 * p + l] = d1 * Float(byte & 0xF) - min1
                    out[64 * p + 32 + l] = d2 * Float(byte >> 4) - min2
                }
            }
        }
    case .q5_K:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(0), dmin = block.f16(2), scales = block + 4, qh = block + 16, qs = block + 48
            for p in 0..<4 {
                let (sc1, m1) = scaleMinK4(2 * p, scales), (sc2, m2) = scaleMinK4(2 * p + 1, scales)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                let bit1 = UInt8(1) << UInt8(2 * p), bit2 = UInt8(2) << UInt8(2 * p)
                for l in 0..<32 {
                    let byte = qs.u8(32 * p + l), high = qh.u8(l)
                    out[64 * p + l] = d1 * Float(byte & 0xF | (high & bit1 != 0 ? 16 : 0)) - min1
                    out[64 * p + 32 + l] = d2 * Float(byte >> 4 | (high & bit2 != 0 ? 16 : 0)) - min2
                }
            }
        }
    case .q6_K:
        for b in 0..<blockCount {
            let block = x + b * size, out = y + b * qk
            let d = block.f16(208)
            for h in 0..<2 {                                  // two halves of 128 values
                let ql = block + 64 * h, qh = block + 128 + 32 * h, sc = block + 192 + 8 * h, o = out + 128 * h
                for l in 0..<32 {
                    let s = l / 16
                    let a = ql.u8(l), c = ql.u8(l + 32), high = qh.u8(l)
                    let q1 = Int(a & 0xF | (high & 3) << 4) - 32
                    let q2 = Int(c & 0xF | ((high >> 2) & 3) << 4) - 32
                    let q3 = Int(a >> 4 | ((high >> 4) & 3) << 4) - 32
                    let q4 = Int(c >> 4 | ((high >> 6) & 3) << 4) - 32
                    o[l] = (d * Float(sc.i8(s))) * Float(q1)
                    o[l + 32] = (d * Float(sc.i8(s + 2))) * Float(q2)
                    o[l + 64] = (d * Float(sc.i8(s + 4))) * Float(q3)
                    o[l + 96] = (d * Float(sc.i8(s + 6))) * Float(q4)
                }
            }
        }
    default:
        preconditionFailure("no dequantization for \(type); callers check isDequantizable")
    }
}

// MARK: - Whole tensors, in parallel

/// Decodes `count` values (a whole number of blocks) of `type` from `bytes` into a new array,
/// splitting the blocks across cores. Each chunk writes only its own values, so the result equals
/// a single `dequantizeBlocks` call. The caller has checked `bytes.count` against `count`.
package func dequantize(_ type: GGMLType, bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
    let (qk, size) = type.blockLayout
    precondition(type.isDequantizable && count % qk == 0 && bytes.count >= count / qk * size,
                 "dequantize: \(count) values of \(type) need \(count / qk * size) bytes, got \(bytes.count)")
    let blocks = count / qk
    guard blocks > 0, let source = bytes.baseAddress else { return [] }
    let blocksPerChunk = max(1, 65_536 / qk)                  // ~64K values, tens of µs per chunk
    let chunks = (blocks + blocksPerChunk - 1) / blocksPerChunk
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        let output = SharedPointer(buffer.baseAddress!)
        nonisolated(unsafe) let input = source
        parallelFor(chunks) { chunk in
            let first = chunk * blocksPerChunk
            let n = min(blocksPerChunk, blocks - first)
            dequantizeBlocks(type, from: input + first * size, blockCount: n, into: output.base + first * qk)
        }
        initialized = count
    }
}
