// The eigendecomposition A = U·Λ·Uᵀ of a real symmetric matrix, in Double: Householder
// tridiagonalization A = Q·T·Qᵀ (Golub & Van Loan, "Matrix Computations" 4th ed. §8.3.1, as LAPACK
// dsytd2), then implicit-shift QR with Wilkinson's shift on the tridiagonal T (GVL Alg. 8.3.2 and
// §8.3.5, as LAPACK dsteqr), every rotation applied to the rows of Qᵀ. A cyclic Jacobi reference
// (GVL Alg. 8.5.3) sits beside it for the tests.
//
//   n · A (n×n, symmetric) · T: diagonal d (n), off-diagonal e (n − 1) · U (n×n, orthogonal)
//   Λ = diag(values), values decreasing; column j of U is the eigenvector of values[j], and its entry
//   of largest magnitude (the first, on a tie) is positive.
import Tensor

// MARK: - Input checks

/// A square matrix with finite entries whose asymmetry max |aᵢⱼ − aⱼᵢ| is at most
/// `relativeTolerance`·max |aᵢⱼ|; returns its symmetric part ½(A + Aᵀ), the nearest symmetric matrix
/// in the Frobenius norm (A itself, bit for bit, when A is exactly symmetric).
func symmetricPart(checking a: Matrix, relativeTolerance: Double) throws(LinalgError) -> Matrix {
    guard a.rows > 0 && a.columns > 0 else { throw .emptyMatrix(shape: [a.rows, a.columns]) }
    guard a.rows == a.columns else { throw .notSquare(rows: a.rows, columns: a.columns) }
    if let bad = a.scalars.firstIndex(where: { !$0.isFinite }) {
        throw .nonFiniteValue(row: bad / a.columns, column: bad % a.columns)
    }
    let n = a.rows
    var largest = 0.0
    for x in a.scalars { largest = max(largest, abs(x)) }
    var worst = (row: 0, column: 0, difference: 0.0)
    for i in 0..<n {
        for j in (i + 1)..<max(n, i + 1) where abs(a[i, j] - a[j, i]) > worst.difference {
            worst = (i, j, abs(a[i, j] - a[j, i]))
        }
    }
    let tolerance = relativeTolerance * largest
    guard worst.difference <= tolerance else {
        throw .notSymmetric(row: worst.row, column: worst.column, difference: worst.difference, tolerance: tolerance)
    }
    var s = a
    for i in 0..<n {
        for j in (i + 1)..<max(n, i + 1) where a[i, j] != a[j, i] {
            let mean = 0.5 * a[i, j] + 0.5 * a[j, i]
            s[i, j] = mean
            s[j, i] = mean
        }
    }
    return s
}

// MARK: - Householder tridiagonalization

/// A = Q·T·Qᵀ with Q = H₀⋯H_{n−3}. Hₖ = I − τₖ·vₖ·vₖᵀ acts on indices k+1..<n and zeroes row
/// (and column) k right of (below) the off-diagonal; vₖ is stored in row k, columns k+1..<n, its
/// unit first entry implied. The rest of `factors` is working space.
package struct Tridiagonalization {
    package var factors: Matrix
    package var d: [Double]
    package var e: [Double]
    package var tau: [Double]

    /// Q (n×n, orthogonal) = diag(1, Q′), formed with blocked (GEMM) reflector products.
    package var q: Matrix { productOfRowReflectors(factors, tau: tau) }

    /// X (n×c) ← Q·X = H₀⋯H_{n−3}·X without forming Q: rows 1..<n of X receive Q′, whose k-th
    /// reflector is vₖ stored as a column (as in `productOfRowReflectors`), by the blocked (GEMM)
    /// application of Householder QR. Equal to `q`·X up to rounding; 2·n²·c flops against forming Q's
    /// (4/3)·n³ plus the product's 2·n²·c.
    package func applyQ(to x: inout Matrix) {
        let n = factors.columns, c = x.columns
        precondition(x.rows == n, "Q is \(n)×\(n); X has \(x.rows) rows")
        if n <= 2 || c == 0 { return }
        // strip[i − 1, k] = factors[k, i] for i > k: the reflectors as columns, transposed in tiles.
        var strip = Matrix(rows: n - 1, columns: n - 1)
        factors.scalars.withUnsafeBufferPointer { fb in
            strip.scalars.withUnsafeMutableBufferPointer { sb in
                let f = fb.baseAddress!, out = sb.baseAddress!
                for k0 in stride(from: 0, to: tau.count, by: 32) {
                    for i0 in stride(from: k0 + 1, to: n, by: 32) {
                        for k in k0..<min(k0 + 32, tau.count) {
                            for i in max(i0, k + 1)..<min(i0 + 32, n) { out[(i - 1) * (n - 1) + k] = f[k * n + i] }
                        }
                    }
                }
            }
        }
        let padded = tau + [Double](repeating: 0, count: n - 1 - tau.count)
        // Rows 1..<n of X, in place.
        let reflectors = HouseholderQR(factors: strip, tau: padded)
        x.scalars.withUnsafeMutableBufferPointer { buffer in
            reflectors.applyQ(to: buffer.baseAddress! + c, columns: c, ldx: c)
        }
    }
}

/// The textbook step, one reflector at a time on the whole trailing block (GVL §8.3.1):
///
///   x = A[k+1..<n, k] (= row k by symmetry)  →  Hₖ (vₖ, τₖ) with Hₖ·x = e[k]·e₁
///   p = τ·A₂₂·v,   w = p − (τ/2)(pᵀv)·v,   A₂₂ ← Hₖ·A₂₂·Hₖ = A₂₂ − v·wᵀ − w·vᵀ     (A₂₂ = A[k+1..<n, k+1..<n])
package func tridiagonalizeReference(_ a: Matrix) -> Tridiagonalization {
    var f = a
    let n = f.rows
    precondition(n == f.columns, "tridiagonalize a square matrix")
    var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: max(n - 1, 0))
    var tau = [Double](repeating: 0, count: max(n - 2, 0))
    for k in 0..<max(n - 2, 0) {
        d[k] = f[k, k]
        let (beta, t) = f.scalars.withUnsafeMutableBufferPointer { buffer in
            makeReflector(buffer.baseAddress! + k * n + k + 1, count: n - k - 1, stride: 1)
        }
        e[k] = beta
        tau[k] = t
        var w = [Double](repeating: 0, count: n)
        for i in (k + 1)..<n {
            var sum = 0.0
            for j in (k + 1)..<n { sum += f[i, j] * f[k, j] }
            w[i] = t * sum
        }
        var pv = 0.0
        for i in (k + 1)..<n { pv += w[i] * f[k, i] }
        for i in (k + 1)..<n { w[i] -= 0.5 * t * pv * f[k, i] }
        for i in (k + 1)..<n {
            for j in (k + 1)..<n { f[i, j] -= f[k, i] * w[j] + w[i] * f[k, j] }
        }
    }
    if n >= 2 { d[n - 2] = f[n - 2, n - 2]; e[n - 2] = f[n - 2, n - 1] }
    d[n - 1] = f[n - 1, n - 1]
    return Tridiagonalization(factors: f, d: d, e: e, tau: tau)
}

/// Same contract as `tridiagonalizeReference`, equal to it up to rounding: blocked panels
/// (`reducePanel`, LAPACK dsytrd/dlatrd) while the trailing block is larger than
/// `tridiagonalBlockedAbove`, then the fused unblocked steps (`tridiagonalizeUnblocked`) on the rest.
/// Only the lower triangle is read and kept up to date; vₖ is stored in the unused row k.
/// `blockedAbove` moves the crossover (tests force panels on small matrices, benchmarks compare).
package func tridiagonalize(_ a: Matrix, blockedAbove: Int = tridiagonalBlockedAbove) -> Tridiagonalization {
    var f = a
    let n = f.rows
    precondition(n == f.columns, "tridiagonalize a square matrix")
    var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: max(n - 1, 0))
    var tau = [Double](repeating: 0, count: max(n - 2, 0))
    var k0 = 0
    let blocked = n > max(blockedAbove, tridiagonalPanelWidth + 2)
    // The trailing lower triangle, packed by rows for the panels' products (allocated once).
    var packed = [Double](repeating: 0, count: blocked ? n * (n - 1) / 2 : 0)
    f.scalars.withUnsafeMutableBufferPointer { fb in
        let p = fb.baseAddress!
        packed.withUnsafeMutableBufferPointer { pb in
            while n - k0 > max(blockedAbove, tridiagonalPanelWidth + 2) {
                reducePanel(p, n: n, first: k0, width: tridiagonalPanelWidth, packed: pb.baseAddress!,
                            d: &d, e: &e, tau: &tau)
                k0 += tridiagonalPanelWidth
            }
        }
        tridiagonalizeUnblocked(p, n: n, first: k0, d: &d, e: &e, tau: &tau)
    }
    return Tridiagonalization(factors: f, d: d, e: e, tau: tau)
}

/// Columns per panel (LAPACK's default block size for dsytrd), and the trailing size below which
/// the unblocked steps finish the reduction (the panel's bookkeeping no longer pays).
let tridiagonalPanelWidth = 32
let tridiagonalBlockedAbove = 128

/// One panel: steps k = k0..<k0+b with the trailing update deferred (LAPACK dlatrd, lower). With
/// V = [v_{k0} … vₖ₋₁] and W = [w_{k0} … wₖ₋₁] (rows k0..<n) the panel's finished steps, the
/// trailing block is A₂₂ − V·Wᵀ − W·Vᵀ without having been written:
///
///   column k:  A[k.., k] −= V[k.., :]·W[k, :]ᵀ + W[k.., :]·V[k, :]ᵀ;  Hₖ (vₖ, τₖ) from A[k+1.., k]
///   wₖ = τₖ·(A₂₂·vₖ − V·(Wᵀvₖ) − W·(Vᵀvₖ)),  then  wₖ ← wₖ − (τₖ/2)(wₖᵀvₖ)·vₖ   (A₂₂ as at the panel's start)
///
/// and at the end A[k0+b.., k0+b..] −= V·Wᵀ + W·Vᵀ as one matrix product (the rank-2b update,
/// dsyr2k), on the lower triangle by row blocks. Half the flops are in that product; the other half
/// is the one read-only pass A₂₂·vₖ per step (`packedSymmetricProduct`, on a packed copy of A₂₂).
private func reducePanel(_ p: UnsafeMutablePointer<Double>, n: Int, first k0: Int, width b: Int,
                         packed: UnsafeMutablePointer<Double>, d: inout [Double], e: inout [Double], tau: inout [Double]) {
    let rows = n - k0                                        // local row r ↔ global row k0 + r
    var vw = [Double](repeating: 0, count: rows * 2 * b)      // row r: V[r, 0..<b] then W[r, 0..<b]
    var work = [Double](repeating: 0, count: rows + 2 * b)    // A₂₂·v, then Wᵀv and Vᵀv
    vw.withUnsafeMutableBufferPointer { vwb in
        work.withUnsafeMutableBufferPointer { wb in
            let vw = vwb.baseAddress!, y = wb.baseAddress!, wv = wb.baseAddress! + rows, vv = wv + b
            let ld = 2 * b
            // A₂₂ of the panel's start (rows/columns k0+1..<n, lower triangle) packed by rows:
            // local row i (global k0+1+i) holds its columns 0...i at offset i(i+1)/2. Read as rows of
            // one contiguous stream it is ~3× faster here than the same rows strided by n (measured
            // at n = 2048: the pass is bound by memory traffic).
            let size = n - k0 - 1
            for i in 0..<size {
                let source = p + (k0 + 1 + i) * n + k0 + 1, row = packed + i * (i + 1) / 2
                for c in 0...i { row[c] = source[c] }
            }
            for j in 0..<b {
                let k = k0 + j, r0 = j                            // global k, local row of k
                // Column k gets the panel's earlier updates.
                if j > 0 {
                    let vk = vw + r0 * ld, wk = vk + b
                    for r in r0..<rows {
                        let vr = vw + r * ld, wr = vr + b
                        p[(k0 + r) * n + k] -= dot(vr, wk, j) + dot(wr, vk, j)
                    }
                }
                d[k] = p[k * n + k]
                // Hₖ from A[k+1..<n, k]; vₖ into V's column j (zero above row k+1) and into row k.
                let m = n - k - 1
                let vector = vw + (r0 + 1) * ld + j             // V[r0+1.., j], stride 2b
                for r in 0..<m { vector[r * ld] = p[(k + 1 + r) * n + k] }
                let (beta, t) = makeReflector(vector, count: m, stride: ld)
                e[k] = beta
                tau[k] = t
                for r in 0..<m { p[k * n + k + 1 + r] = vector[r * ld] }
                // y = A₂₂·vₖ (A₂₂ = rows/columns k+1..<n, lower triangle, untouched in this panel).
                let v = p + k * n + k + 1
                packedSymmetricProduct(packed, first: j, count: m, x: v, into: y)
                // y −= V·(Wᵀv) + W·(Vᵀv) over rows k+1..<n, columns 0..<j.
                if j > 0 {
                    for c in 0..<j { wv[c] = 0; vv[c] = 0 }
                    for r in 0..<m {
                        let vr = vw + (r0 + 1 + r) * ld
                        axpy(v[r], vr + b, wv, j)
                        axpy(v[r], vr, vv, j)
                    }
                    for r in 0..<m {
                        let vr = vw + (r0 + 1 + r) * ld
                        y[r] -= dot(vr, wv, j) + dot(vr + b, vv, j)
                    }
                }
                // wₖ = τ·y − (τ/2)(τ·yᵀv)·v, into W's column j.
                for r in 0..<m { y[r] *= t }
                let alpha = -0.5 * t * dot(y, v, m)
                for r in 0..<m { vw[(r0 + 1 + r) * ld + b + j] = y[r] + alpha * v[r] }
            }
            // A[k0+b.., k0+b..] −= [V W]·[W V]ᵀ on the lower triangle, in row blocks of 256: block
            // rows i0..<i1 need columns 0..<i1 (the diagonal block's upper part is written too, unused).
            let rest = rows - b
            if rest <= 0 { return }
            var swapped = [Double](repeating: 0, count: rest * ld)     // row r: W[r, :] then V[r, :]
            swapped.withUnsafeMutableBufferPointer { sb in
                let s = sb.baseAddress!
                for r in 0..<rest {
                    let source = vw + (b + r) * ld
                    for c in 0..<b { s[r * ld + c] = source[b + c]; s[r * ld + b + c] = source[c] }
                }
                let trailing = p + (k0 + b) * n + k0 + b
                for i0 in stride(from: 0, to: rest, by: 256) {
                    let i1 = min(i0 + 256, rest)
                    gemm(transposeA: false, transposeB: true, m: i1 - i0, n: i1, k: ld, alpha: -1,
                         a: vw + (b + i0) * ld, lda: ld, b: s, ldb: ld,
                         beta: 1, c: trailing + i0 * n, ldc: n)
                }
            }
        }
    }
}

/// The unblocked steps k0..<n−2, with two savings over the reference. Only the lower triangle is
/// kept up to date (half the memory traffic of the level-2 sweeps; vₖ, formed from column k, is
/// stored in the unused row k). And each step's rank-two update is deferred and fused with the next
/// step's product A₂₂·v, so the trailing triangle is swept once per step, not twice.
/// Step k, with step k − 1's (vₖ₋₁, wₖ₋₁) pending:
///
///   column k:  A[k.., k] −= vₖ₋₁·wₖ₋₁[k] + wₖ₋₁·vₖ₋₁[k];  Hₖ (vₖ, τₖ) from A[k+1.., k]
///   sweep, row i > k, columns j ∈ k+1...i:
///              A[i, j] −= vₖ₋₁[i]·wₖ₋₁[j] + wₖ₋₁[i]·vₖ₋₁[j]            (step k − 1's update)
///              pᵢ += Σⱼ A[i, j]·vⱼ;  pⱼ += A[i, j]·vᵢ for j < i            (p = A₂₂·v from one triangle)
///   then:      p ← τₖ·p;  wₖ = p − (τₖ/2)(pᵀvₖ)·vₖ
///
/// One thread: the sweep streams the triangle through the caches once per step, and sharing it
/// between two threads needs a hand-off per step (n of them) that a busy machine makes costly (README).
private func tridiagonalizeUnblocked(_ p: UnsafeMutablePointer<Double>, n: Int, first k0: Int,
                                     d: inout [Double], e: inout [Double], tau: inout [Double]) {
    var workspace = [Double](repeating: 0, count: 4 * n)      // vₖ₋₁, wₖ₋₁ (then wₖ), vₖ, p; by row
    workspace.withUnsafeMutableBufferPointer { wb in
        var vOld = wb.baseAddress!, v = wb.baseAddress! + 2 * n
        let w = wb.baseAddress! + n, product = wb.baseAddress! + 3 * n
        for k in k0..<max(n - 2, k0) {
            let m = n - k - 1                                  // trailing block k+1..<n
            if k > k0 {
                for i in k..<n { p[i * n + k] -= vOld[i] * w[k] + w[i] * vOld[k] }
            }
            d[k] = p[k * n + k]
            for i in (k + 1)..<n { v[i] = p[i * n + k] }
            let (beta, t) = makeReflector(v + k + 1, count: m, stride: 1)
            e[k] = beta
            tau[k] = t
            for j in (k + 1)..<n { p[k * n + j] = v[j] }       // vₖ kept in row k for forming Q
            for j in (k + 1)..<n { product[j] = 0 }
            for i in (k + 1)..<n {
                let row = p + i * n + k + 1, length = i - k            // columns k+1...i
                if k > k0 {
                    axpy(-vOld[i], w + k + 1, row, length)
                    axpy(-w[i], vOld + k + 1, row, length)
                }
                product[i] += dot(row, v + k + 1, length)
                axpy(v[i], row, product + k + 1, length - 1)
            }
            // p ← τ·p, then wₖ = p − (τ/2)(pᵀv)·v, into the slot of wₖ₋₁ (no longer needed).
            for j in (k + 1)..<n { w[j] = t * product[j] }
            axpy(-0.5 * t * dot(w + k + 1, v + k + 1, m), v + k + 1, w + k + 1, m)
            swap(&vOld, &v)
        }
        if n - k0 >= 3 {
            // The last pending update, on the trailing 2×2 block's lower triangle.
            for (i, j) in [(n - 2, n - 2), (n - 1, n - 2), (n - 1, n - 1)] {
                p[i * n + j] -= vOld[i] * w[j] + w[i] * vOld[j]
            }
        }
        if n >= 2 { d[n - 2] = p[(n - 2) * n + n - 2]; e[n - 2] = p[(n - 1) * n + n - 2] }
        d[n - 1] = p[(n - 1) * n + n - 1]
    }
}

// MARK: - Implicit-shift QR on the tridiagonal

/// Diagonalizes T = tridiag(e, d, e) in place: on return `d` holds the eigenvalues (unordered) and
/// `e` zeros, and the rows of `vt` (n×·), when given, have received every rotation, so that
/// A = Vᵀᵀ·T·Vᵀ before implies A = Vᵀᵀ·diag(d)·Vᵀ after — row i of Vᵀ is the eigenvector of d[i].
/// Throws `didNotConverge` past dsteqr's budget of 30·n sweeps (about 2 are needed per eigenvalue).
package func tridiagonalEigen(d: inout [Double], e: inout [Double], vt: inout Matrix?) throws(LinalgError) {
    let n = d.count
    precondition(e.count == max(n - 1, 0), "a tridiagonal of \(n) needs \(n - 1) off-diagonal entries")
    var rows = RotatedRows(matrix: vt)
    vt = nil
    // e[k] splits T when it is below rounding of its neighbours (GVL §8.3.5):
    // |e[k]| ≤ ε·(|d[k]| + |d[k+1]|) — setting it to zero perturbs T by less than its own rounding.
    let eps = Double.ulpOfOne
    func negligible(_ k: Int) -> Bool { abs(e[k]) <= eps * (abs(d[k]) + abs(d[k + 1])) }

    var hi = n - 1
    var sweeps = 0
    let maxSweeps = 30 * n
    while hi > 0 {
        // Deflate at the bottom; then the unreduced block lo...hi has every e[lo..<hi] non-negligible.
        if negligible(hi - 1) { e[hi - 1] = 0; hi -= 1; continue }
        var lo = hi - 1
        while lo > 0 && !negligible(lo - 1) { lo -= 1 }
        if lo > 0 { e[lo - 1] = 0 }
        sweeps += 1
        if sweeps > maxSweeps { throw .didNotConverge(steps: sweeps) }

        let mu = wilkinsonShift(d[hi - 1], e[hi - 1], d[hi])
        d.withUnsafeMutableBufferPointer { d in
            e.withUnsafeMutableBufferPointer { e in
                qrStep(d.baseAddress!, e.baseAddress!, lo: lo, hi: hi, shift: mu, rows: &rows)
            }
        }
    }
    rows.flush()
    vt = rows.matrix
}

/// One implicit QR step T ← Pᵀ·T·P on the unreduced block lo...hi, P = G_lo⋯G_{hi−1} (GVL Alg.
/// 8.3.2). G_lo is the rotation that maps the first column of T − μI, (d[lo] − μ, e[lo]), to (r, 0);
/// each later Gₖ (rows and columns k, k+1) zeroes the bulge z at (k − 1, k + 1) against x = e[k − 1].
@inline(__always)
private func qrStep(_ d: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>, lo: Int, hi: Int,
                    shift mu: Double, rows: inout RotatedRows) {
    var x = d[lo] - mu, z = e[lo]
    for k in lo..<hi {
        let (c, s, r) = givens(x, z)                         // [c s; −s c]·(x, z) = (r, 0)
        if k > lo { e[k - 1] = r }
        // The 2×2 block [a b; b g] ← [c s; −s c]·[a b; b g]·[c −s; s c].
        let a = d[k], b = e[k], g = d[k + 1]
        let cs = c * s, cc = c * c, ss = s * s
        d[k] = cc * a + 2 * cs * b + ss * g
        d[k + 1] = ss * a - 2 * cs * b + cc * g
        e[k] = cs * (g - a) + (cc - ss) * b
        // Row k + 2 had e[k + 1] at column k + 1 only: the rotation moves s·e[k + 1] to column k.
        if k + 1 < hi {
            x = e[k]
            z = s * e[k + 1]
            e[k + 1] *= c
        }
        // U ← U·Gₖ: columns (k, k+1) of U are rows (k, k+1) of Uᵀ.
        rows.record(k, k + 1, c: c, s: s)
    }
}

/// Wilkinson's shift: the eigenvalue of the trailing block [a b; b c] nearer to c,
/// μ = c − b²/(δ + sign(δ)·√(δ² + b²)), δ = (a − c)/2 (GVL eq. 8.3.2). The denominator is a sum of
/// like-signed terms, |·| ≥ |b| > 0 for a block that has not deflated, so there is no cancellation.
func wilkinsonShift(_ a: Double, _ b: Double, _ c: Double) -> Double {
    let delta = 0.5 * (a - c)
    let scale = max(abs(delta), abs(b))
    if scale == 0 { return c }
    let root = scale * ((delta / scale) * (delta / scale) + (b / scale) * (b / scale)).squareRoot()
    let denominator = delta >= 0 ? delta + root : delta - root
    return c - (b / denominator) * b
}

// MARK: - Order and signs

/// The eigenvalues alone of a square, finite, symmetric (within `SymmetricEigen.symmetryTolerance`)
/// matrix, decreasing: tridiagonalization, then the implicit QR iteration on d and e with no
/// vectors to rotate (O(n²) after the O(n³) reduction).
package func symmetricEigenvalues(_ a: Matrix) throws(LinalgError) -> [Double] {
    let t = tridiagonalize(try symmetricPart(checking: a, relativeTolerance: SymmetricEigen.symmetryTolerance))
    var d = t.d, e = t.e
    var noVectors: Matrix? = nil
    try tridiagonalEigen(d: &d, e: &e, vt: &noVectors)
    return d.sorted(by: >)
}

/// Eigenvalues in decreasing order (stable for ties) with the eigenvectors — the columns of `u` —
/// reordered to match, each flipped so that its entry of largest magnitude (the first, on a tie) is
/// positive (the convention of `svd`'s U, STYLE.md §10). Works along u's rows (two passes, no
/// transpose): at n = 2048 the row-wise form below took ≈ 0.2 s on a loaded machine.
package func sortedAndOriented(values: [Double], columnsOf u: Matrix) -> (values: [Double], vectors: Matrix) {
    let n = values.count, height = u.rows
    precondition(u.columns == n, "\(n) eigenvalues, \(u.columns) eigenvectors")
    let order = (0..<n).sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
    var out = Matrix(rows: height, columns: n)
    u.scalars.withUnsafeBufferPointer { ub in
        out.scalars.withUnsafeMutableBufferPointer { ob in
            let p = ub.baseAddress!, q = ob.baseAddress!
            // Row of each column's largest |entry|: a strict > keeps the first on a tie.
            var largest = [Double](repeating: -1, count: n), best = [Int](repeating: 0, count: n)
            for i in 0..<height {
                let row = p + i * n
                for j in 0..<n where abs(row[j]) > largest[j] { largest[j] = abs(row[j]); best[j] = i }
            }
            let sign = (0..<n).map { j -> Double in height > 0 && p[best[j] * n + j] < 0 ? -1 : 1 }
            // Column j of the result is sign·(column order[j] of u), written row by row.
            let signs = order.map { sign[$0] }
            for i in 0..<height {
                let source = p + i * n, row = q + i * n
                for j in 0..<n { row[j] = signs[j] * source[order[j]] }
            }
        }
    }
    return (order.map { values[$0] }, out)
}

/// The same, for eigenvectors given as the rows of `vt`.
package func sortedAndOriented(values: [Double], rowsOf vt: Matrix) -> (values: [Double], vectors: Matrix) {
    precondition(vt.rows == values.count, "\(values.count) eigenvalues, \(vt.rows) eigenvectors")
    return sortedAndOriented(values: values, columnsOf: vt.transposed())
}

// MARK: - Reference: cyclic Jacobi

/// The plain scalar twin: cyclic-by-row Jacobi (GVL Alg. 8.5.3). Each rotation J in the (p, q) plane
/// zeroes aₚq in A ← Jᵀ·A·J, with Rutishauser's stable choice (GVL Alg. 8.5.1):
///
///   θ = (a_qq − a_pp)/(2·a_pq),  t = sign(θ)/(|θ| + √(θ² + 1)),  c = 1/√(t² + 1),  s = t·c
///
/// and V ← V·J. Sweeps until the off-diagonal Frobenius norm is below 0.01·ε·‖A‖_F (it converges
/// quadratically), then sorts and orients like the fast path. Expects a symmetric matrix.
package func symmetricEigenReference(_ a: Matrix) -> (values: [Double], vectors: Matrix) {
    let n = a.rows
    precondition(n == a.columns, "an eigendecomposition of a square matrix")
    var a = a
    var v = Matrix.identity(n)
    let target = 0.01 * Double.ulpOfOne * a.squaredFrobeniusNorm.squareRoot()
    for _ in 0..<100 {
        var off = 0.0
        for p in 0..<n { for q in (p + 1)..<max(n, p + 1) { off += 2 * a[p, q] * a[p, q] } }
        if off.squareRoot() <= target { break }
        for p in 0..<n {
            for q in (p + 1)..<max(n, p + 1) where a[p, q] != 0 {
                let theta = (a[q, q] - a[p, p]) / (2 * a[p, q])
                let t = abs(theta) > 1e150 ? 0.5 / theta
                    : (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for r in 0..<n {                               // A ← A·J (columns p, q)
                    let x = a[r, p], y = a[r, q]
                    a[r, p] = c * x - s * y
                    a[r, q] = s * x + c * y
                }
                for r in 0..<n {                               // A ← Jᵀ·A (rows p, q)
                    let x = a[p, r], y = a[q, r]
                    a[p, r] = c * x - s * y
                    a[q, r] = s * x + c * y
                }
                a[p, q] = 0
                a[q, p] = 0
                for r in 0..<n {                               // V ← V·J
                    let x = v[r, p], y = v[r, q]
                    v[r, p] = c * x - s * y
                    v[r, q] = s * x + c * y
                }
            }
        }
    }
    return sortedAndOriented(values: (0..<n).map { a[$0, $0] }, columnsOf: v)
}

// MARK: - Public API

/// The eigendecomposition A = U·diag(values)·Uᵀ of a real symmetric n×n matrix, computed in Double:
/// values in decreasing order, U orthogonal with column j the eigenvector of values[j], its
/// largest-magnitude entry (the first, on a tie) positive.
public struct SymmetricEigen: Sendable {
    /// The largest asymmetry accepted, relative to the largest |entry|: |aᵢⱼ − aⱼᵢ| ≤ 1e-5·max|a|.
    /// About a hundred roundings of a float32 entry — a Gram matrix summed in Float passes — while a
    /// matrix that is not meant to be symmetric fails. The symmetric part ½(A + Aᵀ) is decomposed.
    public static let symmetryTolerance = 1e-5

    /// Eigenvalues, decreasing.
    public let values: [Double]
    /// U (n×n), column j the eigenvector of `values[j]`.
    package let vectors: Matrix

    /// n.
    public var dimension: Int { values.count }

    /// Eigenvector j (column j of U), in Double.
    public func vector(_ j: Int) -> [Double] {
        precondition((0..<dimension).contains(j), "eigenvector \(j) of \(dimension)")
        return (0..<dimension).map { vectors[$0, j] }
    }

    /// U rounded to Float: an n×n tensor whose columns are the eigenvectors.
    public var floatVectors: Tensor { vectors.tensor }

    /// Decomposes a square, finite, symmetric (within `symmetryTolerance`) Float matrix, widened
    /// exactly to Double.
    public init(_ a: Tensor) throws(LinalgError) {
        guard a.rank == 2 else { throw .notAMatrix(shape: a.shape) }
        try self.init(Matrix(rows: a.shape[0], columns: a.shape[1], scalars: a.scalars.map { Double($0) }))
    }

    /// Decomposes a square, finite, symmetric (within `symmetryTolerance`) Double matrix.
    package init(_ a: Matrix) throws(LinalgError) {
        let symmetric = try symmetricPart(checking: a, relativeTolerance: Self.symmetryTolerance)
        let t = tridiagonalize(symmetric)
        // T = Z·Λ·Zᵀ by divide and conquer, then U = Q·Z.
        let tridiagonal = try tridiagonalEigenDivideAndConquer(d: t.d, e: t.e)
        var u = tridiagonal.vectors
        t.applyQ(to: &u)
        (values, vectors) = sortedAndOriented(values: tridiagonal.values, columnsOf: u)
    }
}

