// Standard normal values for the randomized SVD, from the project's seeded xoshiro256** generator,
// by Box–Muller in Marsaglia's polar form. Same seed → same numbers on every platform: only integer arithmetic, IEEE +, −, ×, ÷ and √ (all correctly rounded) are used — the
// logarithm is computed here rather than by the platform's libm, whose last bits vary.
import Tensor

// The generator itself, `Xoshiro256StarStar`, lives in Tensor (Random.swift) so that sampling
// and the SVD share one.

// MARK: - Gaussian values

/// A uniform Double in [0, 1): the top 53 bits of one draw times 2⁻⁵³.
@inline(__always)
package func uniform(using rng: inout some RandomNumberGenerator) -> Double {
    Double(rng.next() >> 11) * 0x1p-53
}

/// Fills `values` with independent standard normal numbers. Marsaglia's polar method (1964): draw
/// (x, y) uniform in the square (−1, 1)², keep it when s = x² + y² ∈ (0, 1) (probability π/4), and
/// return x·f and y·f with f = √(−2·ln(s)/s) — Box–Muller's r·cos θ and r·sin θ without the sine
/// and cosine. Values come in pairs in a fixed order; an odd tail uses x·f alone.
package func fillGaussian(_ values: UnsafeMutableBufferPointer<Double>, using rng: inout some RandomNumberGenerator) {
    var i = 0
    while i < values.count {
        let x = 2 * uniform(using: &rng) - 1, y = 2 * uniform(using: &rng) - 1
        let s = x * x + y * y
        if s >= 1 || s == 0 { continue }
        let f = (-2 * naturalLog(s) / s).squareRoot()
        values[i] = x * f
        if i + 1 < values.count { values[i + 1] = y * f }
        i += 2
    }
}

/// ln(x) for finite x > 0, to within a few ulp, from basic arithmetic alone: x = 2ᵏ·m with
/// m ∈ [√½, √2), then ln x = k·ln 2 + 2·atanh(t), t = (m − 1)/(m + 1), |t| ≤ 0.172, and
/// atanh(t) = t + t³/3 + t⁵/5 + … (the 13 terms below reach t²⁷ ≈ 2e−21).
package func naturalLog(_ x: Double) -> Double {
    precondition(x > 0 && x.isFinite, "naturalLog needs a finite positive value")
    var k = Double(x.exponent)
    var m = x.significand                      // x = m·2^exponent, m ∈ [1, 2)
    if m > 2.0.squareRoot() { m /= 2; k += 1 }
    let t = (m - 1) / (m + 1), t2 = t * t
    var term = t, sum = 0.0
    for j in 0..<13 {
        sum += term / Double(2 * j + 1)
        term *= t2
    }
    return k * 0.693_147_180_559_945_309_417_232 + 2 * sum
}

/// An m×n matrix of independent standard normal values, filled row by row.
package func gaussianMatrix(rows: Int, columns: Int, using rng: inout some RandomNumberGenerator) -> Matrix {
    var m = Matrix(rows: rows, columns: columns)
    m.scalars.withUnsafeMutableBufferPointer { fillGaussian($0, using: &rng) }
    return m
}

/// A Float tensor of standard normal values (for tests, examples and benchmarks).
public func gaussianTensor(shape: [Int], using rng: inout some RandomNumberGenerator) -> Tensor {
    var values = [Double](repeating: 0, count: shape.reduce(1, *))
    values.withUnsafeMutableBufferPointer { fillGaussian($0, using: &rng) }
    return Tensor(shape: shape, scalars: values.map { Float($0) })
}
