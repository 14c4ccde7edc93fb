// Invariants of QR and the dense SVD over sweeps of shapes: tall, wide, square, rank-deficient,
// 1×n and n×1 (STYLE.md §9). Internal Double results are checked at Double precision; the public
// Float results at Float precision.
import Testing
import Tensor
import Linalg

/// Orthonormality and reconstruction in Double: backward-stable Householder/Givens methods give
/// O(ε·(m + n)) errors; 1e-12 leaves room for the sizes here (≤ 300).
let doubleFactorizationTolerance = 1e-12
/// The same checks on the public Float outputs: each entry is rounded once (≈ 6e-8 relative), and
/// sums of up to 300 such terms drift by ≈ √300·6e-8 ≈ 1e-6.
let floatFactorizationTolerance = 5e-6

let shapeSweep: [(Int, Int)] = [
    (1, 1), (1, 17), (17, 1), (2, 2), (3, 7), (7, 3), (8, 8), (16, 5), (5, 16), (33, 33),
    (64, 20), (20, 64), (100, 61), (61, 100), (130, 130), (300, 40), (40, 300), (257, 129),
]

@Suite struct FactorizationPropertyTests {
    @Test(arguments: shapeSweep)
    func qrIsOrthonormalTriangularAndExact(m: Int, n: Int) throws {
        let a = randomMatrix(m, n, seed: UInt64(31 * m + n))
        let f = householderQR(a)
        let q = f.thinQ, r = f.r
        let k = min(m, n)
        #expect(q.rows == m && q.columns == k && r.rows == k && r.columns == n)
        #expect(orthonormalityError(columnsOf: q) <= doubleFactorizationTolerance)
        for i in 0..<k { for j in 0..<min(i, n) { #expect(r[i, j] == 0) } }
        #expect(relativeFrobeniusError(multiply(q, r), a) <= doubleFactorizationTolerance)

        // The public Float API: same invariants at Float precision.
        let result = try qr(tensor(a))
        let qf = matrix(result.q), rf = matrix(result.r)
        #expect(orthonormalityError(columnsOf: qf) <= floatFactorizationTolerance)
        for i in 0..<k { for j in 0..<min(i, n) { #expect(rf[i, j] == 0) } }
        #expect(relativeFrobeniusError(multiply(qf, rf), matrix(tensor(a))) <= floatFactorizationTolerance)
    }

    @Test(arguments: shapeSweep)
    func svdIsOrthonormalSortedAndExact(m: Int, n: Int) throws {
        for (label, a) in [("gaussian", randomMatrix(m, n, seed: UInt64(17 * m + n))),
                           ("rank ≤ 3", lowRankMatrix(m, n, rank: min(3, m, n), seed: UInt64(m + 7 * n)))] {
            let (u, s, vt) = try singularValueDecomposition(a, vectors: .both)
            let k = min(m, n)
            #expect(u!.rows == m && u!.columns == k && vt!.rows == k && vt!.columns == n && s.count == k)
            #expect(s.allSatisfy { $0 >= 0 }, "\(label) \(m)×\(n): σ ≥ 0")
            #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 }, "\(label) \(m)×\(n): σ sorted")
            #expect(orthonormalityError(columnsOf: u!) <= doubleFactorizationTolerance, "\(label) \(m)×\(n)")
            #expect(orthonormalityError(rowsOf: vt!) <= doubleFactorizationTolerance, "\(label) \(m)×\(n)")
            #expect(relativeFrobeniusError(reconstruct(u: u!, s: s, vt: vt!), a) <= doubleFactorizationTolerance,
                    "\(label) \(m)×\(n)")
            // Values alone agree with the values computed with vectors.
            let valuesOnly = try singularValueDecomposition(a, vectors: .none).s
            #expect(zip(valuesOnly, s).allSatisfy { abs($0 - $1) <= doubleFactorizationTolerance * s[0] })
        }
    }

    @Test(arguments: shapeSweep)
    func publicSVDFollowsTheSignConvention(m: Int, n: Int) throws {
        let a = tensor(randomMatrix(m, n, seed: UInt64(5 * m + 3 * n)))
        let result = try svd(a)
        let u = matrix(result.u), vt = matrix(result.vt)
        let s = result.singularValues.map { Double($0) }
        #expect(orthonormalityError(columnsOf: u) <= floatFactorizationTolerance)
        #expect(orthonormalityError(rowsOf: vt) <= floatFactorizationTolerance)
        #expect(relativeFrobeniusError(reconstruct(u: u, s: s, vt: vt), matrix(a)) <= floatFactorizationTolerance)
        for j in 0..<u.columns {
            let column = (0..<m).map { u[$0, j] }
            let largest = column.indices.max { abs(column[$0]) < abs(column[$1]) }!
            #expect(column[largest] > 0, "column \(j) of U: largest entry positive")
        }
    }

    @Test func zeroMatrixHasZeroSingularValues() throws {
        let (u, s, vt) = try singularValueDecomposition(Matrix(rows: 6, columns: 4), vectors: .both)
        #expect(s == [0, 0, 0, 0])
        #expect(orthonormalityError(columnsOf: u!) <= doubleFactorizationTolerance)
        #expect(orthonormalityError(rowsOf: vt!) <= doubleFactorizationTolerance)
    }

    @Test func badInputIsAnError() {
        #expect(throws: LinalgError.notAMatrix(shape: [3])) { try svd(Tensor(zeros: [3])) }
        #expect(throws: LinalgError.emptyMatrix(shape: [0, 3])) { try svd(Tensor(zeros: [0, 3])) }
        var t = Tensor(zeros: [2, 3])
        t[1, 2] = .nan
        #expect(throws: LinalgError.nonFiniteValue(row: 1, column: 2)) { try svd(t) }
        t[1, 2] = .infinity
        #expect(throws: LinalgError.nonFiniteValue(row: 1, column: 2)) { try qr(t) }
    }
}
