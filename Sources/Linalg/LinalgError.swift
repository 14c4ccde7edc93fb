// The one error type of the Linalg module: every way a factorization's input or parameters can be
// wrong, each case carrying what was found and what was expected.

/// Why a QR, SVD, randomized SVD, PCA or symmetric eigendecomposition call refused its input.
public enum LinalgError: Error, Equatable, Sendable {
    /// The input must be a rank-2 tensor (a matrix).
    case notAMatrix(shape: [Int])
    /// A factorization needs at least one row and one column.
    case emptyMatrix(shape: [Int])
    /// A NaN or ±∞ in the input, at `(row, column)`.
    case nonFiniteValue(row: Int, column: Int)
    /// An iteration exceeded its budget: the bidiagonal QR's 6·n² inner steps (SVD), or the
    /// tridiagonal QR's 30·n sweeps (symmetric eigendecomposition); `steps` is what was spent.
    case didNotConverge(steps: Int)
    /// An eigendecomposition needs a square matrix.
    case notSquare(rows: Int, columns: Int)
    /// A symmetric eigendecomposition was given a matrix with |a[row, column] − a[column, row]| =
    /// `difference` (the largest such, row < column) above `tolerance` (the relative tolerance
    /// times the largest |entry|).
    case notSymmetric(row: Int, column: Int, difference: Double, tolerance: Double)
    /// A requested rank or component count outside `1...maximum`.
    case invalidRank(requested: Int, maximum: Int)
    /// A parameter outside its range, named as in the API (e.g. `oversampling`, `blockSize`).
    case invalidParameter(name: String, value: Int, expected: String)
    /// A variance (energy) threshold outside (0, 1].
    case invalidThreshold(Double)
    /// PCA needs at least two samples (rows) to estimate a variance with ddof = 1.
    case tooFewSamples(found: Int, needed: Int)
    /// A matrix given to `transform`/`inverseTransform` has the wrong number of columns.
    case columnMismatch(found: Int, expected: Int)
    /// The components a truncated fit kept explain less than the requested fraction of the variance.
    case varianceNotReached(threshold: Double, explained: Double)
    /// A reconstruction from the training scores of a fit made without `keepingScores`.
    case scoresNotKept
}
