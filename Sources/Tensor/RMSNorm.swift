// RMSNorm (Zhang & Sennrich 2019, "Root Mean Square Layer Normalization"), as Llama and Hugging Face's
// `LlamaRMSNorm` apply it: in Float, normalize first, then scale by the weight.
//
//   y = x / √(mean(x²) + ε) ⊙ w          row-wise over a (rows, dim) buffer

// MARK: - Reference

/// The definition, one scalar at a time: for each row r of x (rows, dim), row-major,
/// `y[r, j] = (x[r, j] · 1/√(Σⱼ x[r, j]² / dim + ε)) · weight[j]`. `y` may be `x` (in place).
package func rmsNormReference(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, dim: Int,
                              epsilon: Float, into y: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let row = x + r * dim, out = y + r * dim
        var sumOfSquares: Float = 0
        for j in 0..<dim { sumOfSquares += row[j] * row[j] }
        let scale = 1 / (sumOfSquares / Float(dim) + epsilon).squareRoot()
        for j in 0..<dim { out[j] = (row[j] * scale) * weight[j] }
    }
}

// MARK: - Fast

/// Same contract as `rmsNormReference`; the sum of squares in 16 SIMD lanes. Equal to the
/// reference up to the order of that sum. x, y: (rows, dim) row-major; weight: (dim). In place is fine.
package func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, dim: Int,
                     epsilon: Float, into y: UnsafeMutablePointer<Float>) {
    typealias V = SIMD16<Float>
    let vectorEnd = dim & ~15
    let w = UnsafeRawPointer(weight)
    for r in 0..<rows {
        let row = UnsafeRawPointer(x + r * dim), out = UnsafeMutableRawPointer(y + r * dim)
        var lanes = V()
        var j = 0
        while j < vectorEnd {
            let v = row.loadUnaligned(fromByteOffset: 4 * j, as: V.self)
            lanes = lanes.addingProduct(v, v)
            j += 16
        }
        var sumOfSquares = lanes.sum()
        for t in vectorEnd..<dim { sumOfSquares += x[r * dim + t] * x[r * dim + t] }
        let scale = 1 / (sumOfSquares / Float(dim) + epsilon).squareRoot()
        j = 0
        while j < vectorEnd {
            let v = row.loadUnaligned(fromByteOffset: 4 * j, as: V.self) * scale
            out.storeBytes(of: v * w.loadUnaligned(fromByteOffset: 4 * j, as: V.self), toByteOffset: 4 * j, as: V.self)
            j += 16
        }
        for t in vectorEnd..<dim { y[r * dim + t] = (x[r * dim + t] * scale) * weight[t] }
    }
}
