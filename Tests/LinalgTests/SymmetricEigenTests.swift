// The symmetric eigensolver against numpy (np.linalg.eigh: LAPACK dsyevd in float64), against its
// cyclic Jacobi twin, and on its invariants (STYLE.md §9), plus one test per input error.
// Fixtures: Tests/Fixtures/linalg/eigen, written by Tools/reference/linalg.py (part `eigen`).
import Testing
import Tensor
import TestSupport
import Linalg

/// |λᵢ − λᵢ(ref)| ≤ this·‖A‖₂: both sides are normwise backward stable in Double (Householder, then
/// Givens or divide and conquer), so each is within a small multiple of ε·‖A‖₂ ≈ 2e-16·‖A‖₂ of the
/// exact values (Weyl); 1e-13 leaves room for the multiple at n ≈ 100.
let eigenvalueNormwise = 1e-13
/// An eigenvector whose eigenvalue is more than `clusterGap`·‖A‖₂ from its neighbours: perturbation
/// theory (Davis–Kahan) bounds the error by ≈ ε·‖A‖₂/gap ≤ 2e-10; 1e-8 is safe.
let eigenvectorMaxAbs = 1e-8
/// Eigenvalues closer than this·‖A‖₂ are one cluster: their vectors are not individually determined,
/// only the spectral projector U_G·U_Gᵀ of the whole cluster is, to the same ε·‖A‖₂/gap.
let clusterGap = 1e-6
let eigenprojectorMaxAbs = 1e-8
/// UᵀU = I and U·Λ·Uᵀ = A in Double: O(n·ε) for n Householder reflections and ~n² rotations;
/// 1e-12 leaves room at the sizes here (≤ 384), as for QR and the SVD.
let eigenFactorizationTolerance = 1e-12
/// `floatVectors`: each entry of a unit vector rounded once to Float (≤ 6e-8), plus the vector error.
let floatEigenvectorMaxAbs = 1e-7
/// The sign convention decides a vector reliably when its largest |entry| beats the next by more than
/// twice any vector tolerance above: no error within tolerance can then change which entry is largest.
let signDecidedMargin = 1e-6

@Suite struct SymmetricEigenTests {
    // MARK: - Against numpy

    static let fixtureCases = ["one", "two", "small", "indefinite", "clustered", "gram", "gram_low_rank", "wigner"]

    @Test(arguments: fixtureCases)
    func matchesNumpy(name: String) throws {
        let manifest = try Fixtures.json("linalg/eigen/manifest.json") as! [String: Any]
        let entry = (manifest["cases"] as! [String: Any])[name] as! [String: Any]
        let n = entry["n"] as! Int
        let a = Matrix(rows: n, columns: n, scalars: try LinalgFixtures.doubles(entry["a"] as! String))
        let values = try LinalgFixtures.doubles(entry["values"] as! String)            // decreasing
        let vectors = Matrix(rows: n, columns: n, scalars: try LinalgFixtures.doubles(entry["vectors"] as! String))
        let signMargins = entry["sign_margins"] as! [Double]

        let result = try SymmetricEigen(a)
        let norm = values.map(abs).max()!
        #expect(result.values.count == n)
        for i in 0..<n {
            #expect(abs(result.values[i] - values[i]) <= eigenvalueNormwise * norm, "\(name): λ\(i)")
        }
        for group in eigenGroups(values) {
            if group.count == 1 {
                // The fixture applied the same sign convention; where the two largest |entries| of the
                // vector are too close for the convention to decide reliably, compare up to sign.
                let j = group.lowerBound
                let error = signMargins[j] > signDecidedMargin
                    ? columnDifference(result.vectors, vectors, j)
                    : min(columnDifference(result.vectors, vectors, j), columnDifference(result.vectors, vectors, j, flipped: true))
                #expect(error <= eigenvectorMaxAbs, "\(name): eigenvector \(j)")
            } else {
                let error = maxAbsDifference(projector(result.vectors, group), projector(vectors, group))
                #expect(error <= eigenprojectorMaxAbs, "\(name): projector of λ\(group)")
            }
        }
        #expect(orthonormalityError(columnsOf: result.vectors) <= eigenFactorizationTolerance, "\(name)")
        #expect(relativeFrobeniusError(reconstruct(u: result.vectors, s: result.values, vt: result.vectors.transposed()), a)
                <= eigenFactorizationTolerance, "\(name)")

        // The public Float entry point: the same Double computation when the entries are float32 values.
        if entry["float32_exact"] as! Bool {
            let fromTensor = try SymmetricEigen(a.tensor)
            #expect(fromTensor.values == result.values, "\(name): Tensor and Matrix inputs agree")
            let rounded = matrix(fromTensor.floatVectors)
            for group in eigenGroups(values) where group.count == 1 && signMargins[group.lowerBound] > signDecidedMargin {
                #expect(columnDifference(rounded, vectors, group.lowerBound) <= floatEigenvectorMaxAbs, "\(name)")
            }
            #expect(fromTensor.vector(n - 1) == (0..<n).map { result.vectors[$0, n - 1] })
        }
    }

    // MARK: - Invariants and the Jacobi twin, on the project's random matrices

    static let sizes = [1, 2, 3, 4, 5, 8, 16, 17, 31, 64, 100, 130]

    @Test(arguments: sizes)
    func agreesWithJacobiAndIsOrthogonalSortedAndExact(n: Int) throws {
        for (label, a) in testMatrices(n, seed: UInt64(101 * n)) {
            let result = try SymmetricEigen(a)
            let u = result.vectors, values = result.values
            let norm = max(values.map(abs).max()!, .leastNormalMagnitude)
            #expect(zip(values, values.dropFirst()).allSatisfy { $0 >= $1 }, "\(label) \(n): sorted decreasing")
            #expect(orthonormalityError(columnsOf: u) <= eigenFactorizationTolerance, "\(label) \(n): UᵀU = I")
            let reconstruction = reconstruct(u: u, s: values, vt: u.transposed())
            #expect(maxAbsDifference(reconstruction, a) <= eigenFactorizationTolerance * norm, "\(label) \(n): UΛUᵀ = A")
            for j in 0..<n {
                let column = (0..<n).map { u[$0, j] }
                let largest = column.indices.max { abs(column[$0]) < abs(column[$1]) }!      // the first on a tie
                #expect(column[largest] > 0, "\(label) \(n): eigenvector \(j) has its largest entry positive")
            }

            let (jacobiValues, jacobiVectors) = symmetricEigenReference(a)
            for i in 0..<n {
                #expect(abs(values[i] - jacobiValues[i]) <= eigenvalueNormwise * norm, "\(label) \(n): λ\(i) vs Jacobi")
            }
            for group in eigenGroups(jacobiValues) {
                let error = group.count == 1
                    ? min(columnDifference(u, jacobiVectors, group.lowerBound),
                          columnDifference(u, jacobiVectors, group.lowerBound, flipped: true))
                    : maxAbsDifference(projector(u, group), projector(jacobiVectors, group))
                #expect(error <= eigenvectorMaxAbs, "\(label) \(n): λ\(group) vs Jacobi")
            }
        }
    }

    /// Sizes where the tridiagonalization's sweep runs in parallel (trailing block ≥ 128²) — the real
    /// use's 384 and 576 included; checked on invariants and against the textbook tridiagonalization.
    @Test(arguments: [257, 384, 576])
    func largeMatricesAreExact(n: Int) throws {
        let a = gramMatrix(n, rank: n, seed: UInt64(n))
        let result = try SymmetricEigen(a)
        let norm = result.values[0]
        #expect(zip(result.values, result.values.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(orthonormalityError(columnsOf: result.vectors) <= eigenFactorizationTolerance)
        let reconstruction = reconstruct(u: result.vectors, s: result.values, vt: result.vectors.transposed())
        #expect(maxAbsDifference(reconstruction, a) <= eigenFactorizationTolerance * norm)
        // A Gram matrix is positive semi-definite: no eigenvalue below −(rounding).
        #expect(result.values.last! >= -eigenvalueNormwise * norm)
    }

    @Test(arguments: [1, 2, 3, 5, 16, 100, 130, 300])
    func fastTridiagonalizationMatchesTheReference(n: Int) {
        let a = symmetricGaussian(n, seed: UInt64(7 * n + 1))
        let fast = tridiagonalize(a), reference = tridiagonalizeReference(a)
        let scale = a.squaredFrobeniusNorm.squareRoot()
        #expect(zip(fast.d, reference.d).allSatisfy { abs($0 - $1) <= eigenFactorizationTolerance * scale })
        #expect(zip(fast.e, reference.e).allSatisfy { abs($0 - $1) <= eigenFactorizationTolerance * scale })
        #expect(zip(fast.tau, reference.tau).allSatisfy { abs($0 - $1) <= eigenFactorizationTolerance })
        // A = Q·T·Qᵀ with Q orthogonal.
        let q = fast.q
        var t = Matrix(rows: n, columns: n)
        for i in 0..<n { t[i, i] = fast.d[i] }
        for i in 0..<(n - 1) { t[i, i + 1] = fast.e[i]; t[i + 1, i] = fast.e[i] }
        #expect(orthonormalityError(columnsOf: q) <= eigenFactorizationTolerance)
        #expect(relativeFrobeniusError(multiply(multiply(q, t), q, transposeB: true), a) <= eigenFactorizationTolerance)
    }

    @Test func diagonalMatrixIsSortedWithUnitVectors() throws {
        let diagonal: [Double] = [0.5, -3, 7, 0, 7, 2]
        var a = Matrix(rows: 6, columns: 6)
        for i in 0..<6 { a[i, i] = diagonal[i] }
        let result = try SymmetricEigen(a)
        #expect(result.values == [7, 7, 2, 0.5, 0, -3])
        // Ties keep their original order (stable sort), and each unit vector comes out +eᵢ.
        let expected = [2, 4, 5, 0, 3, 1]
        for (j, i) in expected.enumerated() {
            #expect((0..<6).allSatisfy { result.vectors[$0, j] == ($0 == i ? 1 : 0) }, "column \(j) = e\(i)")
        }
    }

    @Test func zeroAndScalarMatrices() throws {
        let zero = try SymmetricEigen(Matrix(rows: 5, columns: 5))
        #expect(zero.values == [0, 0, 0, 0, 0])
        #expect(maxAbsDifference(zero.vectors, Matrix.identity(5)) == 0)
        let scalar = try SymmetricEigen(Tensor(shape: [1, 1], scalars: [-2.5]))
        #expect(scalar.values == [-2.5] && scalar.vector(0) == [1] && scalar.dimension == 1)
    }

    // MARK: - Errors

    @Test func badInputIsAnError() throws {
        #expect(throws: LinalgError.notAMatrix(shape: [3])) { try SymmetricEigen(Tensor(zeros: [3])) }
        #expect(throws: LinalgError.emptyMatrix(shape: [0, 0])) { try SymmetricEigen(Tensor(zeros: [0, 0])) }
        #expect(throws: LinalgError.notSquare(rows: 2, columns: 3)) { try SymmetricEigen(Tensor(zeros: [2, 3])) }
        var t = Tensor(zeros: [3, 3])
        t[1, 2] = .nan
        #expect(throws: LinalgError.nonFiniteValue(row: 1, column: 2)) { try SymmetricEigen(t) }
        var m = Matrix(rows: 3, columns: 3)
        m[2, 0] = -.infinity
        #expect(throws: LinalgError.nonFiniteValue(row: 2, column: 0)) { try SymmetricEigen(m) }
    }

    @Test func asymmetryBeyondTheToleranceIsAnError() throws {
        // Largest |entry| 4, so the tolerance is 4·1e-5; the worst pair is (0, 2), off by 0.5.
        let a = Matrix(rows: 3, columns: 3, scalars: [1, 1e-6, 0.5,
                                                      0, 2, 0,
                                                      0, 0, -4])
        #expect(throws: LinalgError.notSymmetric(row: 0, column: 2, difference: 0.5,
                                                 tolerance: 4 * SymmetricEigen.symmetryTolerance)) {
            try SymmetricEigen(a)
        }
    }

    @Test func asymmetryWithinTheToleranceDecomposesTheSymmetricPart() throws {
        var a = symmetricGaussian(9, seed: 3)
        var symmetric = a
        a[1, 4] += 1e-7
        symmetric[1, 4] = 0.5 * a[1, 4] + 0.5 * a[4, 1]
        symmetric[4, 1] = symmetric[1, 4]
        let result = try SymmetricEigen(a), expected = try SymmetricEigen(symmetric)
        #expect(result.values == expected.values)
        #expect(maxAbsDifference(result.vectors, expected.vectors) == 0)
    }
}

// MARK: - Helpers

/// (A + Aᵀ)/2 for a Gaussian A: an indefinite matrix with a semicircle-like spectrum.
private func symmetricGaussian(_ n: Int, seed: UInt64) -> Matrix {
    let b = randomMatrix(n, n, seed: seed)
    var a = b
    for i in 0..<n { for j in 0..<n { a[i, j] = 0.5 * (b[i, j] + b[j, i]) } }
    return a
}

/// G·Gᵀ for a Gaussian n×rank G: positive semi-definite, rank `rank` (zero eigenvalues otherwise),
/// made exactly symmetric.
private func gramMatrix(_ n: Int, rank: Int, seed: UInt64) -> Matrix {
    var a = multiply(randomMatrix(n, rank, seed: seed), randomMatrix(n, rank, seed: seed), transposeB: true)
    for i in 0..<n { for j in 0..<i { a[i, j] = a[j, i] } }
    return a
}

/// Q·diag(λ)·Qᵀ for a random orthogonal Q, with λ repeating 3 three times and −1 twice: exactly
/// repeated eigenvalues (to rounding), whose vectors only the projector determines.
private func repeatedSpectrum(_ n: Int, seed: UInt64) -> Matrix {
    let q = householderQR(randomMatrix(n, n, seed: seed)).thinQ
    let lambda = (0..<n).map { i -> Double in i < 3 ? 3 : (i < 5 ? -1 : Double(i) / Double(n)) }
    var qd = q
    for i in 0..<n { for j in 0..<n { qd[i, j] *= lambda[j] } }
    var a = multiply(qd, q, transposeB: true)
    for i in 0..<n { for j in 0..<i { a[i, j] = a[j, i] } }
    return a
}

private func testMatrices(_ n: Int, seed: UInt64) -> [(String, Matrix)] {
    [("gaussian", symmetricGaussian(n, seed: seed)),
     ("gram rank ≤ 3", gramMatrix(n, rank: min(3, n), seed: seed &+ 1)),
     ("repeated", repeatedSpectrum(n, seed: seed &+ 2))]
}

/// Runs of eigenvalues (decreasing) whose neighbours are closer than `clusterGap`·max|λ|.
private func eigenGroups(_ values: [Double]) -> [Range<Int>] {
    let threshold = clusterGap * max(values.map(abs).max() ?? 0, .leastNormalMagnitude)
    var groups: [Range<Int>] = []
    var start = 0
    for i in 1...values.count where i == values.count || values[i - 1] - values[i] > threshold {
        groups.append(start..<i)
        start = i
    }
    return groups
}

/// max over rows of |a[·, j] − (±)b[·, j]|.
private func columnDifference(_ a: Matrix, _ b: Matrix, _ j: Int, flipped: Bool = false) -> Double {
    (0..<a.rows).map { abs(a[$0, j] - (flipped ? -b[$0, j] : b[$0, j])) }.max()!
}

/// U_G·U_Gᵀ for the columns `group` of U: the orthogonal projector onto their span.
private func projector(_ u: Matrix, _ group: Range<Int>) -> Matrix {
    let columns = u.columns(group)
    return multiply(columns, columns, transposeB: true)
}
