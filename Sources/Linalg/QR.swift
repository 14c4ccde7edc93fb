// Householder QR, A = Q·R with thin Q (m×k, orthonormal columns) and R (k×n, upper triangular),
// k = min(m, n). Golub & Van Loan, "Matrix Computations" (4th ed.) §5.1–5.2; the blocked form with
// the compact WY representation H₁⋯H_b = I − V·T·Vᵀ is Schreiber & Van Loan (1989), as in LAPACK
// dgeqrf/dlarft/dlarfb. A plain unblocked reference sits beside the blocked factorization.
import Tensor

// MARK: - Householder reflector

/// The reflector H = I − τ·v·vᵀ with v₀ = 1 that maps x to β·e₁ (LAPACK dlarfg's convention):
/// β = −sign(x₀)·‖x‖ so that v₀ = x₀ − β never cancels. When x₁… are already zero, τ = 0 (H = I)
/// and β = x₀. On return `x` holds v (x₀ = 1). Sums of squares cannot overflow: the values
/// started as Float (≤ 3.4e38), and their squares fit easily in Double (≤ 1.8e308).
@discardableResult
func makeReflector(_ x: UnsafeMutablePointer<Double>, count: Int, stride: Int) -> (beta: Double, tau: Double) {
    let alpha = x[0]
    var tail = 0.0
    for i in 1..<max(count, 1) { tail += x[i * stride] * x[i * stride] }
    if tail == 0 {
        x[0] = 1
        return (alpha, 0)
    }
    let norm = (alpha * alpha + tail).squareRoot()
    let beta = alpha >= 0 ? -norm : norm
    let tau = (beta - alpha) / beta
    let scale = 1 / (alpha - beta)
    for i in 1..<count { x[i * stride] *= scale }
    x[0] = 1
    return (beta, tau)
}

// MARK: - Factorization

/// A QR factorization in LAPACK's compact form: R on and above the diagonal of `factors`, the
/// Householder vectors vⱼ (unit first entry implied) below it, and their scalars τⱼ.
package struct HouseholderQR {
    package var factors: Matrix
    package var tau: [Double]

    var reflectorCount: Int { tau.count }

    /// R (k×n), k = min(m, n).
    package var r: Matrix {
        let k = reflectorCount, n = factors.columns
        var r = Matrix(rows: k, columns: n)
        for i in 0..<k { for j in i..<n { r[i, j] = factors[i, j] } }
        return r
    }

    /// The thin Q (m×k): Q·[I_k; 0].
    package var thinQ: Matrix {
        let k = reflectorCount
        var q = Matrix(rows: factors.rows, columns: k)
        for i in 0..<k { q[i, i] = 1 }
        applyQ(to: &q, startingFromIdentity: true)
        return q
    }
}

/// Two levels of blocking: panels of `panelWidth` columns are factored with level-2 operations and
/// applied to the rest of their `outerWidth`-wide block; each outer block is then applied to the
/// trailing matrix with matrix products of depth `outerWidth`, so the trailing matrix is swept once
/// per 128 columns rather than once per 32.
private let panelWidth = 32
private let outerWidth = 128

/// The reference: column by column, each reflector applied to the rest of the matrix at once.
package func householderQRReference(_ a: Matrix) -> HouseholderQR {
    var f = a
    let m = f.rows, n = f.columns, k = min(m, n)
    var tau = [Double](repeating: 0, count: k)
    f.scalars.withUnsafeMutableBufferPointer { buffer in
        let p = buffer.baseAddress!
        for j in 0..<k {
            // x = A[j..<m, j]  →  β e₁
            let (beta, t) = makeReflector(p + j * n + j, count: m - j, stride: n)
            tau[j] = t
            // A[j..<m, j+1..<n] −= τ·v·(vᵀ·A[j..<m, j+1..<n])
            for c in (j + 1)..<max(n, j + 1) {
                var w = 0.0
                for i in j..<m { w += p[i * n + j] * p[i * n + c] }
                w *= t
                for i in j..<m { p[i * n + c] -= w * p[i * n + j] }
            }
            p[j * n + j] = beta
        }
    }
    return HouseholderQR(factors: f, tau: tau)
}

/// Blocked Householder QR: factor a panel with level-2 operations, form its T
/// (H₁⋯H_b = I − V·T·Vᵀ), and update the columns to its right with three matrix products:
/// C ← (I − V·Tᵀ·Vᵀ)·C = C − V·(Tᵀ·(Vᵀ·C)). Equal to `householderQRReference` up to rounding.
package func householderQR(_ a: Matrix) -> HouseholderQR {
    var f = a
    let m = f.rows, n = f.columns, k = min(m, n)
    var tau = [Double](repeating: 0, count: k)
    for outer0 in stride(from: 0, to: k, by: outerWidth) {
        let outerEnd = min(outer0 + outerWidth, k)
        for j0 in stride(from: outer0, to: outerEnd, by: panelWidth) {
            let b = min(panelWidth, outerEnd - j0)
            f.scalars.withUnsafeMutableBufferPointer { buffer in
                factorPanel(buffer.baseAddress!, ld: n, rows: m, first: j0, count: b, tau: &tau)
            }
            applyBlock(to: &f, tau: tau, first: j0, count: b, columns: (j0 + b)..<max(outerEnd, j0 + b))
        }
        applyBlock(to: &f, tau: tau, first: outer0, count: outerEnd - outer0, columns: outerEnd..<n)
    }
    return HouseholderQR(factors: f, tau: tau)
}

/// A[j0..<m, columns] ← (H_{j0}⋯H_{j0+b−1})ᵀ·A[j0..<m, columns].
private func applyBlock(to f: inout Matrix, tau: [Double], first j0: Int, count b: Int, columns: Range<Int>) {
    if columns.isEmpty { return }
    let block = ReflectorBlock(factors: f, tau: tau, first: j0, count: b)
    let n = f.columns
    f.scalars.withUnsafeMutableBufferPointer { buffer in
        block.apply(transposed: true, to: buffer.baseAddress! + j0 * n + columns.lowerBound, rows: f.rows - j0,
                    columns: columns.count, ldc: n)
    }
}

/// Unblocked Householder QR of the panel A[j0..<m, j0..<j0+b], on a column-major copy so that every
/// reflector and every column it updates is contiguous: for each column c, vᶜ from it, then
/// colᵢ −= τ·(vᶜ·colᵢ)·vᶜ for the columns i right of it (in parallel when the panel is tall).
private func factorPanel(_ a: UnsafeMutablePointer<Double>, ld n: Int, rows m: Int, first j0: Int, count b: Int,
                         tau: inout [Double]) {
    let height = m - j0
    var panel = [Double](repeating: 0, count: height * b)          // column c at [c·height, (c+1)·height)
    for i in 0..<height { for c in 0..<b { panel[c * height + i] = a[(j0 + i) * n + j0 + c] } }
    panel.withUnsafeMutableBufferPointer { buffer in
        let shared = SharedPointer(buffer.baseAddress!)
        for c in 0..<b {
            let x = shared.base + c * height + c                      // rows j0+c..<m of column c
            let length = height - c
            let (beta, t) = makeReflector(x, count: length, stride: 1)
            tau[j0 + c] = t
            let rest = b - c - 1
            if t != 0 && rest > 0 {
                let update: @Sendable (Int) -> Void = { r in
                    let v = shared.base + c * height + c
                    let y = shared.base + (c + 1 + r) * height + c
                    axpy(-t * dot(v, y, length), v, y, length)
                }
                if length * rest >= 1 << 16 { parallelFor(rest, update) } else { for r in 0..<rest { update(r) } }
            }
            x[0] = beta
        }
    }
    for i in 0..<height { for c in 0..<b { a[(j0 + i) * n + j0 + c] = panel[c * height + i] } }
}

// MARK: - Applying Q

/// b consecutive reflectors j0..<j0+b as one block: V (rows j0..<m, unit lower trapezoidal, copied
/// contiguous for the products) and the upper-triangular T with H_{j0}⋯H_{j0+b−1} = I − V·T·Vᵀ.
struct ReflectorBlock {
    var v: Matrix          // (m − j0) × b
    var t: Matrix          // b × b

    init(factors f: Matrix, tau: [Double], first j0: Int, count b: Int) {
        let m = f.rows
        var v = Matrix(rows: m - j0, columns: b)
        let n = f.columns
        f.scalars.withUnsafeBufferPointer { src in
            v.scalars.withUnsafeMutableBufferPointer { dst in
                for i in j0..<m {
                    for j in 0..<b {
                        let column = j0 + j
                        dst[(i - j0) * b + j] = i < column ? 0 : (i == column ? 1 : src[i * n + column])
                    }
                }
            }
        }
        self.v = v
        // LAPACK dlarft, forward, columnwise: T[j, j] = τⱼ; T[0..<j, j] = −τⱼ·T[0..<j, 0..<j]·(Vᵀ·vⱼ)[0..<j].
        t = Matrix(rows: b, columns: b)
        let vtv = multiply(v, v, transposeA: true)            // b×b Gram matrix of the vectors
        for j in 0..<b {
            let tj = tau[j0 + j]
            t[j, j] = tj
            for i in 0..<j {
                var sum = 0.0
                for l in i..<j { sum += t[i, l] * vtv[l, j] }
                t[i, j] = -tj * sum
            }
        }
    }

    /// C (rows×columns at `c`, leading dimension ldc) ← (I − V·op(T)·Vᵀ)·C, op(T) = Tᵀ when
    /// `transposed` (that is Hᵀ = H_b⋯H₁, used to factor) and T otherwise (H = H₁⋯H_b, to apply Q).
    func apply(transposed: Bool, to c: UnsafeMutablePointer<Double>, rows: Int, columns: Int, ldc: Int) {
        let b = t.rows
        precondition(rows == v.rows, "reflector block of \(v.rows) rows applied to \(rows) rows")
        var w = Matrix(rows: b, columns: columns)
        var tw = Matrix(rows: b, columns: columns)
        v.scalars.withUnsafeBufferPointer { pv in
            t.scalars.withUnsafeBufferPointer { pt in
                w.scalars.withUnsafeMutableBufferPointer { pw in
                    tw.scalars.withUnsafeMutableBufferPointer { ptw in
                        // W = Vᵀ·C   (b×rows · rows×columns)
                        gemm(transposeA: true, transposeB: false, m: b, n: columns, k: rows, alpha: 1,
                             a: pv.baseAddress!, lda: b, b: c, ldb: ldc, beta: 0, c: pw.baseAddress!, ldc: columns)
                        // TW = op(T)·W   (b×b · b×columns)
                        gemm(transposeA: transposed, transposeB: false, m: b, n: columns, k: b, alpha: 1,
                             a: pt.baseAddress!, lda: b, b: pw.baseAddress!, ldb: columns, beta: 0,
                             c: ptw.baseAddress!, ldc: columns)
                        // C −= V·TW   (rows×b · b×columns)
                        gemm(transposeA: false, transposeB: false, m: rows, n: columns, k: b, alpha: -1,
                             a: pv.baseAddress!, lda: b, b: ptw.baseAddress!, ldb: columns, beta: 1,
                             c: c, ldc: ldc)
                    }
                }
            }
        }
    }
}

/// Reflectors per block when applying Q: more than the factorization's panel, so that each pass over
/// X does more arithmetic (GEMM depth 128) — T costs O(m·b²) per block, small next to O(m·b·c).
private let applicationBlockWidth = 128

extension HouseholderQR {
    /// X (m×c) ← Q·X = H₁⋯H_k·X, applying the blocks last to first. When X starts as [I; 0]
    /// (`startingFromIdentity`), the block starting at reflector j0 meets only columns ≥ j0: the
    /// others are still zero in rows ≥ j0 (LAPACK dorgqr's saving, about half the work).
    package func applyQ(to x: inout Matrix, startingFromIdentity: Bool = false) {
        precondition(x.rows == factors.rows, "Q is \(factors.rows)×\(factors.rows); X has \(x.rows) rows")
        let c = x.columns
        x.scalars.withUnsafeMutableBufferPointer { buffer in
            applyQ(to: buffer.baseAddress!, columns: c, ldx: c, startingFromIdentity: startingFromIdentity)
        }
    }

    /// The same on X (m×c) stored at `x` with leading dimension `ldx` (a block of a larger matrix).
    package func applyQ(to x: UnsafeMutablePointer<Double>, columns c: Int, ldx: Int, startingFromIdentity: Bool = false) {
        let m = factors.rows, k = reflectorCount
        if c == 0 { return }
        let starts = Array(stride(from: 0, to: k, by: applicationBlockWidth))
        for j0 in starts.reversed() {
            let firstColumn = startingFromIdentity ? min(j0, c) : 0
            if firstColumn == c { continue }
            let block = ReflectorBlock(factors: factors, tau: tau, first: j0,
                                       count: min(applicationBlockWidth, k - j0))
            block.apply(transposed: false, to: x + j0 * ldx + firstColumn, rows: m - j0,
                        columns: c - firstColumn, ldc: ldx)
        }
    }
}

// MARK: - Public API

/// A thin QR factorization A = Q·R of an m×n matrix, k = min(m, n).
public struct QR: Sendable {
    /// Q (m×k) with orthonormal columns.
    public let q: Tensor
    /// R (k×n), upper triangular. Its diagonal may be negative (LAPACK's sign choice, as numpy's).
    public let r: Tensor
}

/// The thin Householder QR of a matrix, computed in Double and rounded to Float.
public func qr(_ a: Tensor) throws(LinalgError) -> QR {
    let factorization = householderQR(try Matrix(checking: a))
    return QR(q: factorization.thinQ.tensor, r: factorization.r.tensor)
}
