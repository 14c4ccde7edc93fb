// Rotary position embedding (Su et al. 2021, "RoFormer"), in Hugging Face's "rotate half" layout as
// `LlamaRotaryEmbedding` + `apply_rotary_pos_emb` compute it: within each head of dimension Dh the
// pairs rotated together are (i, i + Dh/2), not adjacent lanes. (GGUF files store Q and K permuted
// for llama.cpp's adjacent-pair layout; the loader undoes that, so this one layout serves both.)
//
//   inv_freqᵢ = θ^(−2i/Dh)                 i = 0 ..< Dh/2
//   angle     = position · inv_freqᵢ
//   x'ᵢ       = xᵢ · cos(angle) − xᵢ₊Dh/2 · sin(angle)
//   x'ᵢ₊Dh/2  = xᵢ₊Dh/2 · cos(angle) + xᵢ · sin(angle)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

// MARK: - Tables

/// cos and sin of every (position, frequency) for positions `0..<positions`, each (positions, Dh/2)
/// row-major. Computed as Hugging Face does, in Float: `inv_freq = 1 / θ^(2i/Dh)` (Float exponent,
/// Float power), `angle = Float(position) · inv_freq` (one Float product), then cos and sin of that
/// Float angle — so the tables match transformers' to the last bit or two even at large positions,
/// where the Float rounding of the angle itself is larger than cos's error.
package struct RoPETable: Sendable {
    package let headDim: Int
    package let theta: Float
    package let positions: Int
    /// cos(angle), (positions, headDim/2).
    package let cosines: [Float]
    /// sin(angle), (positions, headDim/2).
    package let sines: [Float]

    /// `headDim` must be even and positive; `positions` ≥ 0.
    package init(headDim: Int, theta: Float, positions: Int) {
        precondition(headDim > 0 && headDim % 2 == 0, "RoPE head dimension must be even, got \(headDim)")
        precondition(positions >= 0, "negative position count \(positions)")
        self.headDim = headDim
        self.theta = theta
        self.positions = positions
        let half = headDim / 2
        let inverseFrequencies: [Float] = (0..<half).map { i in
            1 / powf(theta, Float(2 * i) / Float(headDim))
        }
        var cosines = [Float](repeating: 0, count: positions * half)
        var sines = [Float](repeating: 0, count: positions * half)
        for position in 0..<positions {
            for i in 0..<half {
                let angle = Float(position) * inverseFrequencies[i]
                cosines[position * half + i] = Float(cos(Double(angle)))
                sines[position * half + i] = Float(sin(Double(angle)))
            }
        }
        self.cosines = cosines
        self.sines = sines
    }
}

// MARK: - Reference

/// Rotates one token's heads in place: x is (heads, headDim) row-major, at `position` (< table.positions).
package func applyRoPEReference(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int, table: RoPETable) {
    let half = table.headDim / 2
    for h in 0..<heads {
        let head = x + h * table.headDim
        for i in 0..<half {
            let c = table.cosines[position * half + i], s = table.sines[position * half + i]
            let x1 = head[i], x2 = head[i + half]
            head[i] = x1 * c + (-x2) * s
            head[i + half] = x2 * c + x1 * s
        }
    }
}

// MARK: - Fast

/// Same contract as `applyRoPEReference`, SIMD16 over i where Dh/2 allows (bit-identical to it:
/// the same products and sums, unfused).
package func applyRoPE(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int, table: RoPETable) {
    precondition(position >= 0 && position < table.positions,
                 "RoPE position \(position) outside the table's \(table.positions) positions")
    typealias V = SIMD16<Float>
    let half = table.headDim / 2
    let vectorEnd = half & ~15
    table.cosines.withUnsafeBufferPointer { cosines in
        table.sines.withUnsafeBufferPointer { sines in
            let cosRow = UnsafeRawPointer(cosines.baseAddress! + position * half)
            let sinRow = UnsafeRawPointer(sines.baseAddress! + position * half)
            for h in 0..<heads {
                let head = x + h * table.headDim
                let first = UnsafeMutableRawPointer(head), second = UnsafeMutableRawPointer(head + half)
                var i = 0
                while i < vectorEnd {
                    let c = cosRow.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
                    let s = sinRow.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
                    let x1 = first.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
                    let x2 = second.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
                    first.storeBytes(of: x1 * c + (-x2) * s, toByteOffset: 4 * i, as: V.self)
                    second.storeBytes(of: x2 * c + x1 * s, toByteOffset: 4 * i, as: V.self)
                    i += 16
                }
                for t in vectorEnd..<half {
                    let c = cosines[position * half + t], s = sines[position * half + t]
                    let x1 = head[t], x2 = head[t + half]
                    head[t] = x1 * c + (-x2) * s
                    head[t + half] = x2 * c + x1 * s
                }
            }
        }
    }
}

/// Rotates T consecutive tokens in place: x is (tokens, rowStride) row-major, each row holding
/// `heads` heads of table.headDim from its start (q: H·Dh, k: G·Dh); token t sits at position
/// firstPosition + t.
package func applyRoPE(_ x: UnsafeMutablePointer<Float>, tokens: Int, rowStride: Int, heads: Int,
                       firstPosition: Int, table: RoPETable) {
    for t in 0..<tokens {
        applyRoPE(x + t * rowStride, heads: heads, position: firstPosition + t, table: table)
    }
}
