// How a weight matrix is stored: F32, F16, BF16, or one of GGML's block quantizations (Q8_0, Q4_0,
// Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), and how each decodes to Float. Sources: ggml's reference
// `dequantize_row_*` (ggml/src/ggml-quants.c, block structs in ggml-common.h) and the `gguf` Python
// package's `quants.py`, whose arithmetic order is followed exactly, so results are bit-identical to
// `gguf.quants.dequantize`.
//
// A row is a run of blocks; each block stores `blockSize` values in `blockBytes` bytes. All
// multi-byte fields are little-endian; `f16` is an IEEE binary16 scale.
//
// Arithmetic order: `d * q + m` and `d * q - m` are two rounded operations (never fused), as numpy
// does them; ggml's C may fuse them into one FMA depending on compiler flags, which can differ from
// both in the last bit. Swift does not fuse `a * b + c` on its own.

/// The encodings the forward pass reads in place (the names are GGML's).
public enum WeightEncoding: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"
    case q8_0 = "Q8_0", q4_0 = "Q4_0", q4_1 = "Q4_1", q5_0 = "Q5_0", q5_1 = "Q5_1"
    case q4_K = "Q4_K", q5_K = "Q5_K", q6_K = "Q6_K"

    /// Values per block: 1 for the float encodings, 32 for Q8_0…Q5_1, 256 (QK_K) for the K-quants.
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1: 32
        case .q4_K, .q5_K, .q6_K: 256
        }
    }

    /// Bytes per block (ggml's `type_traits`, `GGML_QUANT_SIZES` in gguf-py).
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: 2 + 32
        case .q4_0: 2 + 16
        case .q4_1: 2 + 2 + 16
        case .q5_0: 2 + 4 + 16
        case .q5_1: 2 + 2 + 4 + 16
        case .q4_K: 2 + 2 + 12 + 128
        case .q5_K: 2 + 2 + 12 + 32 + 128
        case .q6_K: 128 + 64 + 16 + 2
        }
    }

    /// Bytes of `count` values (a whole number of blocks).
    public func byteCount(values count: Int) -> Int { count / blockSize * blockBytes }

    /// The same encoding as a plain scalar type, for F32, F16 and BF16.
    public init(_ scalar: ScalarEncoding) {
        switch scalar {
        case .float32: self = .f32
        case .float16: self = .f16
        case .bfloat16: self = .bf16
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
package func dequantizedValueReference(_ type: WeightEncoding, block x: UnsafeRawPointer, index j: Int) -> Float {
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
    }
}

// MARK: - Fast: whole blocks

/// Decodes `blockCount` consecutive blocks of `type` from `x` into `y` (`blockCount × blockSize`
/// values). Follows ggml's `dequantize_row_*` loops; equal to `dequantizedValueReference` exactly.
package func dequantizeBlocks(_ type: WeightEncoding, from x: UnsafeRawPointer, blockCount: Int,
                              into y: UnsafeMutablePointer<Float>) {
    let qk = type.blockSize, size = type.blockBytes
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
    }
}

