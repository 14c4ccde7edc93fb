// The fast paths of `SymmetricEigen` against their twins (STYLE.md §2): divide and conquer on the
// tridiagonal against the implicit-shift QR, the blocked (panel) tridiagonalization against the
// textbook one, and Q applied to a matrix against the formed Q times it.
import Testing
import Tensor
import TestSupport
import Linalg

/// Eigenvalues of T by two backward-stable methods in Double: each within a small multiple of ε·‖T‖
/// of the exact ones (Weyl); 1e-13·‖T‖ leaves room for the multiple at n ≈ 300.
private let tridiagonalValueTolerance = 1e-13
/// ZᵀZ = I and T·Z = Z·Λ (relative to ‖T‖): Gu–Eisenstat vectors are orthogonal to O(n·ε) whatever
/// the roots' errors; 1e-12 as for the other factorizations here.
private let tridiagonalFactorizationTolerance = 1e-12
/// Vectors of eigenvalues more than 1e-6·‖T‖ from their neighbours: both methods within
/// ≈ ε·‖T‖/gap ≤ 2e-10 of the exact vector (Davis–Kahan); 1e-8 is safe. Closer ones: projectors.
private let separatedGap = 1e-6
private let tridiagonalVectorTolerance = 1e-8
/// τ of the blocked and the textbook tridiagonalization (see the test for why not 1e-12).
private let blockedTauTolerance = 1e-10

@Suite struct DivideAndConquerTests {
    /// Sizes around the leaf size (32) and a few levels of recursion.
    static let sizes = [1, 2, 5, 32, 33, 64, 65, 100, 257]

    @Test(arguments: sizes)
    func matchesQRIteration(n: Int) throws {
        for (label, d, e) in tridiagonals(n, seed: UInt64(31 * n + 7)) {
            let (values, z) = try tridiagonalEigenDivideAndConquer(d: d, e: e)
            var qrValues = d, qrOff = e
            var vt: Matrix? = Matrix.identity(n)
            try tridiagonalEigen(d: &qrValues, e: &qrOff, vt: &vt)
            let fast = sortedAndOriented(values: values, rowsOf: z.transposed())
            let reference = sortedAndOriented(values: qrValues, rowsOf: vt!)
            let norm = max(d.map(abs).max()!, e.map(abs).max() ?? 0, .leastNormalMagnitude)

            for i in 0..<n {
                #expect(abs(fast.values[i] - reference.values[i]) <= tridiagonalValueTolerance * norm, "\(label) \(n): λ\(i)")
            }
            #expect(orthonormalityError(columnsOf: fast.vectors) <= tridiagonalFactorizationTolerance, "\(label) \(n): ZᵀZ = I")
            // ‖T·Z − Z·Λ‖_max, T applied from its diagonals.
            var residual = 0.0
            for j in 0..<n {
                for i in 0..<n {
                    var tz = d[i] * fast.vectors[i, j]
                    if i > 0 { tz += e[i - 1] * fast.vectors[i - 1, j] }
                    if i < n - 1 { tz += e[i] * fast.vectors[i + 1, j] }
                    residual = max(residual, abs(tz - fast.values[j] * fast.vectors[i, j]))
                }
            }
            #expect(residual <= tridiagonalFactorizationTolerance * norm, "\(label) \(n): T·Z = Z·Λ")
            for group in groups(reference.values, gap: separatedGap * norm) {
                let u = fast.vectors.columns(group), r = reference.vectors.columns(group)
                let error = maxAbsDifference(multiply(u, u, transposeB: true), multiply(r, r, transposeB: true))
                #expect(error <= tridiagonalVectorTolerance, "\(label) \(n): λ\(group)")
            }
        }
    }

    /// A diagonal T (every off-diagonal zero) splits into 1×1 blocks: the values, and unit vectors exactly.
    @Test func diagonalIsExact() throws {
        let d: [Double] = (0..<70).map { Double(($0 * 37) % 11) - 5 }
        let (values, z) = try tridiagonalEigenDivideAndConquer(d: d, e: [Double](repeating: 0, count: 69))
        #expect(values == d)
        #expect(maxAbsDifference(z, Matrix.identity(70)) == 0)
    }

    // MARK: - Blocked tridiagonalization and Q·X

    /// Sizes where `blockedAbove: 0` runs one or more panels of 32 before the unblocked tail.
    @Test(arguments: [35, 67, 130, 300])
    func blockedTridiagonalizationMatchesTheReference(n: Int) {
        let b = randomMatrix(n, n, seed: UInt64(5 * n + 3))
        var a = b
        for i in 0..<n { for j in 0..<n { a[i, j] = 0.5 * (b[i, j] + b[j, i]) } }
        let fast = tridiagonalize(a, blockedAbove: 0), reference = tridiagonalizeReference(a)
        // Same reflectors up to rounding: O(n·ε) relative to ‖A‖_F, as the unblocked fast path's test.
        let scale = a.squaredFrobeniusNorm.squareRoot()
        #expect(zip(fast.d, reference.d).allSatisfy { abs($0 - $1) <= tridiagonalFactorizationTolerance * scale })
        #expect(zip(fast.e, reference.e).allSatisfy { abs($0 - $1) <= tridiagonalFactorizationTolerance * scale })
        // τ is a ratio of trailing entries that are O(1) here but carry absolute errors of
        // O(n·ε·‖A‖_F) ≈ 2e-12 (‖A‖_F ≈ 65 at n = 130; measured 1.4e-12 on the last reflectors).
        #expect(zip(fast.tau, reference.tau).allSatisfy { abs($0 - $1) <= blockedTauTolerance })
        let q = fast.q
        var t = Matrix(rows: n, columns: n)
        for i in 0..<n { t[i, i] = fast.d[i] }
        for i in 0..<(n - 1) { t[i, i + 1] = fast.e[i]; t[i + 1, i] = fast.e[i] }
        #expect(orthonormalityError(columnsOf: q) <= tridiagonalFactorizationTolerance)
        #expect(relativeFrobeniusError(multiply(multiply(q, t), q, transposeB: true), a) <= tridiagonalFactorizationTolerance)

        // Q·X without forming Q equals the formed Q times X: two orders of the same products, O(n·ε)·max|x|.
        let x = randomMatrix(n, 7, seed: UInt64(n))
        var applied = x
        fast.applyQ(to: &applied)
        #expect(maxAbsDifference(applied, multiply(q, x)) <= tridiagonalFactorizationTolerance)
    }
}

// MARK: - Helpers

/// Tridiagonals that exercise the merge: random entries; Wilkinson's W⁺ (pairs of eigenvalues
/// agreeing to many digits); glued copies of one block (clusters, heavy deflation); a graded matrix
/// (eigenvalues over many orders of magnitude); one with a zero off-diagonal entry (a split).
private func tridiagonals(_ n: Int, seed: UInt64) -> [(String, [Double], [Double])] {
    let r = randomMatrix(2, n, seed: seed)
    let random = ((0..<n).map { r[0, $0] }, (0..<max(n - 1, 0)).map { r[1, $0] })
    let half = Double(n - 1) / 2
    let wilkinson = ((0..<n).map { abs(Double($0) - half) }, [Double](repeating: 1, count: max(n - 1, 0)))
    let block = 7
    let glued = ((0..<n).map { Double($0 % block) / Double(block) },
                 (0..<max(n - 1, 0)).map { ($0 + 1) % block == 0 ? 1e-9 : 1 })
    let graded = ((0..<n).map { Double(sign: .plus, exponent: -($0 % 40), significand: 1) },
                  (0..<max(n - 1, 0)).map { Double(sign: .plus, exponent: -($0 % 40) - 1, significand: 1) })
    var split = random
    if n > 3 { split.1[n / 2] = 0 }
    return [("random", random.0, random.1), ("wilkinson", wilkinson.0, wilkinson.1),
            ("glued", glued.0, glued.1), ("graded", graded.0, graded.1), ("split", split.0, split.1)]
}

/// Runs of (decreasing) values whose neighbours are closer than `gap`.
private func groups(_ values: [Double], gap: Double) -> [Range<Int>] {
    var result: [Range<Int>] = []
    var start = 0
    for i in 1...max(values.count, 1) where i == values.count || values[i - 1] - values[i] > gap {
        result.append(start..<i)
        start = i
    }
    return result
}
