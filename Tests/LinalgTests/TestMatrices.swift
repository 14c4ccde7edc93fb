// Helpers shared by the Linalg tests: seeded test matrices, error measures, fixture readers.
import Foundation
import Tensor
import TestSupport
import Linalg

/// A Gaussian m×n matrix from the project's generator (fixed seed per call site).
func randomMatrix(_ m: Int, _ n: Int, seed: UInt64) -> Matrix {
    var rng = Xoshiro256StarStar(seed: seed)
    return gaussianMatrix(rows: m, columns: n, using: &rng)
}

/// An m×n matrix of rank `rank`: the product of two Gaussian factors.
func lowRankMatrix(_ m: Int, _ n: Int, rank: Int, seed: UInt64) -> Matrix {
    multiply(randomMatrix(m, rank, seed: seed), randomMatrix(rank, n, seed: seed &+ 1))
}

/// The same values rounded to Float, as a tensor (what the public API takes).
func tensor(_ m: Matrix) -> Tensor { m.tensor }

func matrix(_ t: Tensor) -> Matrix {
    Matrix(rows: t.shape[0], columns: t.shape[1], scalars: t.scalars.map { Double($0) })
}

/// max |aᵢⱼ − bᵢⱼ|
func maxAbsDifference(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.rows == b.rows && a.columns == b.columns, "shapes differ")
    var worst = 0.0
    for (x, y) in zip(a.scalars, b.scalars) { worst = max(worst, abs(x - y)) }
    return worst
}

/// ‖a − b‖_F / ‖b‖_F (0 when both are zero).
func relativeFrobeniusError(_ a: Matrix, _ b: Matrix) -> Double {
    var diff = 0.0, ref = 0.0
    for (x, y) in zip(a.scalars, b.scalars) { diff += (x - y) * (x - y); ref += y * y }
    return ref == 0 ? diff.squareRoot() : (diff / ref).squareRoot()
}

/// max |QᵀQ − I| for a matrix with orthonormal columns.
func orthonormalityError(columnsOf q: Matrix) -> Double {
    let gram = multiply(q, q, transposeA: true)
    return maxAbsDifference(gram, Matrix.identity(q.columns))
}

/// max |RRᵀ − I| for a matrix with orthonormal rows.
func orthonormalityError(rowsOf r: Matrix) -> Double {
    let gram = multiply(r, r, transposeB: true)
    return maxAbsDifference(gram, Matrix.identity(r.rows))
}

/// U·diag(s)·Vᵀ
func reconstruct(u: Matrix, s: [Double], vt: Matrix) -> Matrix {
    var us = u
    for i in 0..<u.rows { for j in 0..<u.columns { us[i, j] *= s[j] } }
    return multiply(us, vt)
}

// MARK: - Fixtures

enum LinalgFixtures {
    static func manifest() throws -> [String: Any] {
        try Fixtures.json("linalg/manifest.json") as! [String: Any]
    }

    /// A raw little-endian float64 array.
    static func doubles(_ relative: String) throws -> [Double] {
        let bytes = try Fixtures.data("linalg/" + relative)
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian) }
        }
    }

    static func floats(_ relative: String) throws -> [Float] {
        try Fixtures.floats("linalg/" + relative)
    }
}
