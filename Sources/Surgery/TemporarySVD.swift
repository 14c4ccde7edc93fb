// TEMPORARY: a plain one-sided Jacobi SVD (Hestenes) in Double, so the Surgery module builds and
// its tests run before Linalg's SVD/PCA is merged. Removed when Linalg lands; not part of the design.

/// Thin SVD of a row-major (m × n) matrix: X = U Σ Vᵀ with k = min(m, n) singular values, descending.
/// Returns Vᵀ (k × n) and Σ (k).
func temporaryThinSVD(_ x: [Double], rows m: Int, columns n: Int) -> (s: [Double], vt: [Double]) {
    // Work on A with at least as many rows as columns: A = X (n ≤ m) or A = Xᵀ.
    let transposed = n > m
    let r = transposed ? n : m, c = transposed ? m : n          // A is (r × c), r ≥ c
    // Store A column-major so each column is contiguous.
    var a = [Double](repeating: 0, count: r * c)
    for i in 0..<m { for j in 0..<n {
        if transposed { a[i * r + j] = x[i * n + j] } else { a[j * r + i] = x[i * n + j] }
    } }
    var v = [Double](repeating: 0, count: c * c)                 // column-major, starts at I
    for i in 0..<c { v[i * c + i] = 1 }
    for _ in 0..<60 {
        var rotated = false
        for p in 0..<(c - 1) {
            for q in (p + 1)..<c {
                var alpha = 0.0, beta = 0.0, gamma = 0.0
                for i in 0..<r {
                    let ap = a[p * r + i], aq = a[q * r + i]
                    alpha += ap * ap; beta += aq * aq; gamma += ap * aq
                }
                if abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() || gamma == 0 { continue }
                rotated = true
                let zeta = (beta - alpha) / (2 * gamma)
                let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                let cs = 1 / (1 + t * t).squareRoot(), sn = cs * t
                for i in 0..<r {
                    let ap = a[p * r + i], aq = a[q * r + i]
                    a[p * r + i] = cs * ap - sn * aq
                    a[q * r + i] = sn * ap + cs * aq
                }
                for i in 0..<c {
                    let vp = v[p * c + i], vq = v[q * c + i]
                    v[p * c + i] = cs * vp - sn * vq
                    v[q * c + i] = sn * vp + cs * vq
                }
            }
        }
        if !rotated { break }
    }
    // σ_j = ‖a_j‖; A = U Σ Vᵀ with u_j = a_j / σ_j.
    var sigma = (0..<c).map { j -> Double in
        var s = 0.0
        for i in 0..<r { s += a[j * r + i] * a[j * r + i] }
        return s.squareRoot()
    }
    let order = (0..<c).sorted { sigma[$0] > sigma[$1] }
    sigma = order.map { sigma[$0] }
    // Right singular vectors of X: columns of V (not transposed) or, for X = Aᵀ, the u_j.
    var vt = [Double](repeating: 0, count: c * n)
    for (row, j) in order.enumerated() {
        if transposed {
            let s = sigma[row]
            for i in 0..<n { vt[row * n + i] = s > 0 ? a[j * r + i] / s : 0 }
        } else {
            for i in 0..<n { vt[row * n + i] = v[j * c + i] }
        }
    }
    return (sigma, vt)
}
