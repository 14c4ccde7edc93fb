// General matrix multiply, C = A·Bᵀ and C = A·B, in Float: a plain triple-loop reference and the
// fast kernel, equal to the reference up to summation order.

// MARK: - Reference

/// C (m×n) = A (m×k) · Bᵀ with B stored (n×k) — the layout of PyTorch `[out, in]` weights —
/// or A · B with B stored (k×n) when `transposeB` is false. Row-major, leading dimensions given.
package func gemmReference(m: Int, n: Int, k: Int,
                           a: UnsafePointer<Float>, lda: Int,
                           b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                           c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k {
                let bValue = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += a[i * lda + p] * bValue
            }
            c[i * ldc + j] = sum
        }
    }
}

// MARK: - Fast

/// Same contract as `gemmReference`; blocked, SIMD and parallel.
package func gemm(m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                  c: UnsafeMutablePointer<Float>, ldc: Int) {
    // Placeholder until the blocked kernel lands: the reference.
    gemmReference(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
}

// MARK: - Tensor API

/// `a · bᵀ`: (m, k) × (n, k)ᵀ → (m, n).
public func matmulTransposed(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1],
                 "matmulTransposed: shapes \(a.shape) and \(b.shape) do not match")
    let m = a.shape[0], k = a.shape[1], n = b.shape[0]
    var c = Tensor(zeros: [m, n])
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: k,
                     transposeB: true, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    return c
}

/// `a · b`: (m, k) × (k, n) → (m, n).
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                 "matmul: shapes \(a.shape) and \(b.shape) do not match")
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    var c = Tensor(zeros: [m, n])
    a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            c.scalars.withUnsafeMutableBufferPointer { pc in
                gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                     transposeB: false, c: pc.baseAddress!, ldc: n)
            }
        }
    }
    return c
}
