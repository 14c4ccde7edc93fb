// The working matrix of the factorizations: dense, row-major, in Double. Inputs arrive as Float
// `Tensor`s and results leave as Float; in between, Householder vectors, rotations and Gram sums are
// kept in Double so that thousands of accumulated reflections and rotations stay orthogonal to
// ~1e-13 instead of drifting by ~n·ε_float (≈1e-4 for n = 2048).
import Tensor
// The C library links libm, which `Double.squareRoot()` may call: without an import of it, an
// executable that uses this module fails to link (`undefined reference to 'sqrt'`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

/// A dense row-major matrix of `Double`: element `(i, j)` is `scalars[i * columns + j]`.
package struct Matrix: Sendable {
    package var rows: Int
    package var columns: Int
    package var scalars: [Double]

    package init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        self.scalars = [Double](repeating: 0, count: rows * columns)
    }

    package init(rows: Int, columns: Int, scalars: [Double]) {
        precondition(scalars.count == rows * columns, "matrix \(rows)×\(columns) given \(scalars.count) values")
        self.rows = rows
        self.columns = columns
        self.scalars = scalars
    }

    package static func identity(_ n: Int) -> Matrix {
        var eye = Matrix(rows: n, columns: n)
        for i in 0..<n { eye.scalars[i * n + i] = 1 }
        return eye
    }

    package subscript(row: Int, column: Int) -> Double {
        get { scalars[row * columns + column] }
        set { scalars[row * columns + column] = newValue }
    }

    /// `(r, c) → (c, r)`, in cache-sized tiles.
    package func transposed() -> Matrix {
        var out = Matrix(rows: columns, columns: rows)
        let tile = 32
        scalars.withUnsafeBufferPointer { src in
            out.scalars.withUnsafeMutableBufferPointer { dst in
                for i0 in stride(from: 0, to: rows, by: tile) {
                    for j0 in stride(from: 0, to: columns, by: tile) {
                        for i in i0..<min(i0 + tile, rows) {
                            for j in j0..<min(j0 + tile, columns) { dst[j * rows + i] = src[i * columns + j] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The first `count` rows.
    package func topRows(_ count: Int) -> Matrix {
        Matrix(rows: count, columns: columns, scalars: Array(scalars[0..<(count * columns)]))
    }

    /// Columns `range` of every row.
    package func columns(_ range: Range<Int>) -> Matrix {
        var out = Matrix(rows: rows, columns: range.count)
        for i in 0..<rows {
            for j in range { out.scalars[i * range.count + (j - range.lowerBound)] = scalars[i * columns + j] }
        }
        return out
    }

    /// ‖M‖²_F, summed in Double.
    package var squaredFrobeniusNorm: Double {
        var sum = 0.0
        for x in scalars { sum += x * x }
        return sum
    }
}

// MARK: - Float ↔ Double at the module's boundary

/// Every public entry point checks its input: a rank-2 tensor with at least one row and column and
/// only finite values (a NaN would otherwise stall the SVD's iteration).
func checkMatrix(_ tensor: Tensor) throws(LinalgError) {
    guard tensor.rank == 2 else { throw .notAMatrix(shape: tensor.shape) }
    let rows = tensor.shape[0], columns = tensor.shape[1]
    guard rows > 0 && columns > 0 else { throw .emptyMatrix(shape: tensor.shape) }
    if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
        throw .nonFiniteValue(row: bad / columns, column: bad % columns)
    }
}

extension Matrix {
    /// The matrix of a rank-2 tensor, widened exactly to Double, after `checkMatrix`.
    package init(checking tensor: Tensor) throws(LinalgError) {
        try checkMatrix(tensor)
        self.init(rows: tensor.shape[0], columns: tensor.shape[1], scalars: tensor.scalars.map { Double($0) })
    }

    /// Rounded to Float (to nearest).
    package var tensor: Tensor {
        Tensor(shape: [rows, columns], scalars: scalars.map { Float($0) })
    }
}
