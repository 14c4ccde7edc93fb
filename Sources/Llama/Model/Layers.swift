// The small operations of the forward pass over row-major buffers, in terms of Tensor's kernels.
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// y (T, out) = x (T, in) · Wᵀ with W (out, in).
func linear(_ x: [Float], rows t: Int, _ w: Tensor, into y: inout [Float]) {
    let out = w.shape[0], inner = w.shape[1]
    x.withUnsafeBufferPointer { xp in
        w.scalars.withUnsafeBufferPointer { wp in
            y.withUnsafeMutableBufferPointer { yp in
                gemm(m: t, n: out, k: inner, a: xp.baseAddress!, lda: inner, b: wp.baseAddress!, ldb: inner,
                     transposeB: true, c: yp.baseAddress!, ldc: out)
            }
        }
    }
}

/// y (T, out) += x (T, in) · Wᵀ — the residual connection.
func linearAccumulate(_ x: [Float], rows t: Int, _ w: Tensor, into y: inout [Float]) {
    var product = [Float](repeating: 0, count: t * w.shape[0])
    linear(x, rows: t, w, into: &product)
    for i in 0..<product.count { y[i] += product[i] }
}

/// RMSNorm of each row: y = x / √(mean(x²) + ε) ⊙ w.
func rmsNorm(_ x: [Float], weight w: [Float], epsilon: Float, rows t: Int, into y: inout [Float]) {
    let d = w.count
    for r in 0..<t {
        var sumSquares: Float = 0
        for j in 0..<d { sumSquares += x[r * d + j] * x[r * d + j] }
        let inverse = 1 / (sumSquares / Float(d) + epsilon).squareRoot()
        for j in 0..<d { y[r * d + j] = w[j] * (x[r * d + j] * inverse) }
    }
}

/// Numerically stable softmax of `count` values in place: p_i = exp(x_i − max) / Σ exp(x_j − max).
func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = -Float.infinity
    for i in 0..<count { maximum = max(maximum, x[i]) }
    var sum: Float = 0
    for i in 0..<count { x[i] = expf(x[i] - maximum); sum += x[i] }
    let inverse = 1 / sum
    for i in 0..<count { x[i] *= inverse }
}

/// gate ← SiLU(gate) ⊙ up, SiLU(g) = g / (1 + e^(−g)).
func swiGLU(gate: inout [Float], up: [Float]) {
    for i in 0..<gate.count { gate[i] = gate[i] / (1 + expf(-gate[i])) * up[i] }
}
