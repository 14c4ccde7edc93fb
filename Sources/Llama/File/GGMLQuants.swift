// GGML tensor types (the ids a GGUF file stores) and their dequantization, which Tensor's
// WeightEncoding does for the types this project reads.
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

    /// The encoding this project reads this type as, nil for a type it cannot turn into Float.
    package var weightEncoding: WeightEncoding? { WeightEncoding(rawValue: description) }

    /// Whether this project can turn the type into Float.
    package var isDequantizable: Bool { weightEncoding != nil }

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


// MARK: - Whole tensors, in parallel

/// Decodes `count` values (a whole number of blocks) of `type` from `bytes` into a new array,
/// splitting the blocks across cores. Each chunk writes only its own values, so the result equals
/// a single `dequantizeBlocks` call. The caller has checked `bytes.count` against `count`.
package func dequantize(_ type: GGMLType, bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
    guard let encoding = type.weightEncoding else { preconditionFailure("no dequantization for \(type); callers check isDequantizable") }
    let qk = encoding.blockSize, size = encoding.blockBytes
    precondition(count % qk == 0 && bytes.count >= count / qk * size,
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
            dequantizeBlocks(encoding, from: input + first * size, blockCount: n, into: output.base + first * qk)
        }
        initialized = count
    }
}
