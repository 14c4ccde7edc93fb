// Principal component analysis with scikit-learn's semantics (sklearn.decomposition.PCA, 1.9.1):
// rows are samples, columns features; the data are centred by the column means and decomposed by an
// SVD, Xc = U·Σ·Vᵀ; components are the rows of Vᵀ, explained variance σ²/(n − 1), and each
// component's sign makes its largest-magnitude entry positive (svd_flip(u_based_decision=False)).
//
//   n samples · f features · k = min(n, f) components (fewer for a truncated fit)
//   mean (f) · components (k×f) · explainedVariance (k) · explainedVarianceRatio (k) · σ (k)
import Tensor

/// The number of components for a variance threshold t, as one of two scikit-learn computations.
public enum VarianceRule: Sendable {
    /// The smallest n whose cumulative ratio is ≥ t, compared in Float: the original study's
    /// `np.argmax(np.cumsum(pca.explained_variance_ratio_) >= t) + 1` on float32 ratios (numpy 2
    /// compares a float32 array with a Python float in float32) — except at t = 1, which keeps every
    /// component: a float32 running sum can reach 1.0 a few components early, or stop a hair below
    /// it (the study's `argmax` of all-False then gives 1); neither is what "100%" means.
    case reaches
    /// The smallest n whose cumulative ratio is > t, compared in Double: scikit-learn's own
    /// `PCA(n_components=t)`, i.e. `np.searchsorted(ratio_cumsum, t, side="right") + 1`.
    case exceeds
}

/// A fitted PCA. Create one with `PCA.fit(_:keeping:solver:centred:keepingScores:)`.
public struct PCA: Sendable {
    /// Which components a fit keeps.
    public enum Keep: Sendable, Equatable {
        /// All min(n, f) components (what the study fits, then cuts per threshold).
        case all
        /// The leading `count` components.
        case count(Int)
        /// The fewest components whose explained variance reaches the fraction t ∈ (0, 1]
        /// (rule `.reaches`).
        case variance(Double)
    }

    /// How the SVD of the centred data is computed.
    public enum Solver: Sendable, Equatable {
        /// The dense SVD: exact to Double rounding, cost ∝ n·f·min(n, f).
        case exact
        /// The eigen-route through the Gram matrix, in Double: Xcᵀ·Xc (f×f) when n ≥ f, else
        /// Xc·Xcᵀ (n×n), decomposed by `SymmetricEigen`; σ = √λ. Forming the Gram squares the
        /// condition number: σᵢ carries an absolute error ≈ ε·σ₁²/σᵢ (relative ε·(σ₁/σᵢ)²), so σ
        /// below ~1e-4·σ₁ lose digits the dense SVD keeps. Ratios, and so the component counts, are
        /// sums of σ² and move by ≈ ε·min(n, f) at most — far below their Float rounding (README).
        case covariance
        /// Randomized SVD (fixed count: HMT 2011; variance target: randQB_EI), seeded by `seed`
        /// through `Xoshiro256StarStar`. Ratios are relative to the exact total variance.
        case randomized(oversampling: Int = 10, powerIterations: Int = 4, seed: UInt64 = 0)
        /// `.covariance` when the fit keeps all components or min(n, f) ≤ `PCA.autoExactLimit`;
        /// otherwise `.randomized()` while the components kept stay within
        /// `PCA.autoRandomizedFraction` of min(n, f) — a variance target's randomized basis is
        /// abandoned for `.exact` as soon as it grows past that.
        case auto
    }

    /// `.auto` uses the exact solver up to this many components (min(n, f)): below it the dense
    /// SVD takes well under a second, and a fit is exact and reproducible without a seed.
    public static let autoExactLimit = 1024
    /// `.auto` goes randomized only while the components kept are at most this fraction of
    /// min(n, f): measured on 2048×2048, the adaptive randomized fit costs 16% of the exact one at
    /// 10% of the components and as much as it at 42% (README).
    public static let autoRandomizedFraction = 0.25

    /// Per-feature mean of the training data (f).
    public let mean: [Float]
    /// Principal axes as rows (k×f), orthonormal, in decreasing order of variance.
    public let components: Tensor
    /// Variance along each component, σ²/(n − 1) (ddof = 1).
    public let explainedVariance: [Float]
    /// Each component's share of the total variance.
    public let explainedVarianceRatio: [Float]
    /// Singular values of the centred data (k).
    public let singularValues: [Float]
    /// n, the number of training samples.
    public let sampleCount: Int
    /// Whether every component was computed (k = min(n, f)), so the ratios sum to 1.
    public let isComplete: Bool
    /// Whether the data were centred (false: mean 0, the SVD of the data as they are).
    public let isCentred: Bool
    /// cumulativeRatio[i]: the fraction of the variance the first i + 1 components explain, as the
    /// count rule reads it — np.cumsum of the float32 ratios (exact in Double) for a centred fit, a
    /// Double running sum of the energy ratios for an uncentred one.
    public let cumulativeRatio: [Double]
    /// Z (n × k) = (X − 1μᵀ)Cᵀ, the training rows' scores, when the fit was asked to keep them.
    public private(set) var scores: Tensor?

    /// f, the number of features.
    public var featureCount: Int { mean.count }
    /// k, the number of components kept.
    public var componentCount: Int { singularValues.count }
}

// MARK: - Fit

extension PCA {
    /// Fits a PCA to `x` (n samples × f features, n ≥ 2). With `centred: false` the data are
    /// decomposed as they are (mean 0: a truncated SVD, X = UΣVᵀ, "variance" is then the second
    /// moment σ²/(n − 1) about the origin). With `keepingScores`, the fit also holds the scores
    /// Z = (X − 1μᵀ)Cᵀ of the training rows (scikit-learn's `fit_transform`), so that reconstructions
    /// for any number of components cost one product.
    public static func fit(_ x: Tensor, keeping keep: Keep = .all, solver: Solver = .auto, centred isCentred: Bool = true,
                           keepingScores: Bool = false) throws(LinalgError) -> PCA {
        let data = try Matrix(checking: x)
        let n = data.rows, f = data.columns, limit = min(n, f)
        guard n >= 2 else { throw .tooFewSamples(found: n, needed: 2) }
        switch keep {
        case .all: break
        case .count(let k): guard (1...limit).contains(k) else { throw .invalidRank(requested: k, maximum: limit) }
        case .variance(let t): guard t > 0 && t <= 1 else { throw .invalidThreshold(t) }
        }

        let (mean, centred) = centredData(data, centred: isCentred)

        // The SVD of Xc, by the strategy the solver resolves to for this size and `keep`.
        var (s, vt) = try decompose(centred, keeping: keep, strategy: Strategy(solver, keeping: keep, limit: limit))
        var noU: Matrix? = nil
        flipSignsByV(u: &noU, vt: &vt)

        let (sigma, variance, ratio, cumulative, complete) = varianceRatios(s, samples: n, limit: limit, centred: isCentred,
                                                                            squaredNorm: centred.squaredFrobeniusNorm)
        var pca = PCA(mean: mean.map { Float($0) }, components: vt.tensor, explainedVariance: variance,
                      explainedVarianceRatio: ratio, singularValues: sigma, sampleCount: n, isComplete: complete,
                      isCentred: isCentred, cumulativeRatio: cumulative, scores: nil)
        if case .variance(let t) = keep {
            // A randomized fit stops once Σσ² ≥ t·‖Xc‖² in Double; if the Float ratios land a hair
            // short of t, keep everything it found.
            let count = (try? pca.componentCount(forVariance: t)) ?? pca.componentCount
            pca = try pca.truncated(to: count)
        } else if case .count(let k) = keep, k < pca.componentCount {
            pca = try pca.truncated(to: k)
        }
        if keepingScores { pca.scores = try pca.transform(x) }                // (n, f) × (k, f)ᵀ → (n, k)
        return pca
    }

    /// How the SVD of the centred data is computed, resolved once from the solver, the size and
    /// what the fit keeps.
    enum Strategy: Equatable {
        /// The dense SVD (values and Vᵀ only).
        case dense
        /// The symmetric eigendecomposition of the Gram matrix.
        case gram
        /// HMT 2011 Alg. 4.4 + 5.1 at a fixed rank.
        case randomized(rank: Int, oversampling: Int, powerIterations: Int, seed: UInt64)
        /// randQB_EI to an energy target; dense instead if the basis would grow past `rankLimit`.
        case adaptive(energy: Double, rankLimit: Int?, powerIterations: Int, seed: UInt64)

        init(_ solver: Solver, keeping keep: Keep, limit: Int) throws(LinalgError) {
            let rank: Int
            switch keep {
            case .all: rank = limit
            case .count(let k): rank = k
            case .variance: rank = limit
            }
            switch solver {
            case .exact:
                self = .dense
            case .covariance:
                self = .gram
            case .randomized(let p, let q, let seed):
                guard p >= 0 else { throw .invalidParameter(name: "oversampling", value: p, expected: "≥ 0") }
                guard q >= 0 else { throw .invalidParameter(name: "powerIterations", value: q, expected: "≥ 0") }
                if case .variance(let t) = keep {
                    self = .adaptive(energy: t, rankLimit: nil, powerIterations: min(q, 2), seed: seed)
                } else {
                    self = .randomized(rank: rank, oversampling: p, powerIterations: q, seed: seed)
                }
            case .auto:
                // The dense SVD for small matrices and for fits that keep many components, where
                // randomized sampling saves little (README: measured crossover).
                // Where a dense route is taken it is the Gram eigen-route, measured faster than the
                // SVD at 576², 2048² and 11264×2048 with identical counts (README); a randomized
                // basis abandoned part-way still falls back to the dense SVD.
                let rankLimit = Int(PCA.autoRandomizedFraction * Double(limit))
                guard limit > PCA.autoExactLimit else { self = .gram; return }
                switch keep {
                case .all: self = .gram
                case .count(let k) where k > rankLimit: self = .gram
                case .count(let k): self = .randomized(rank: k, oversampling: 10, powerIterations: 4, seed: 0)
                case .variance(let t): self = .adaptive(energy: t, rankLimit: rankLimit, powerIterations: 2, seed: 0)
                }
            }
        }
    }

    /// σ (descending) and Vᵀ of `centred` by `strategy`.
    private static func decompose(_ centred: Matrix, keeping keep: Keep,
                                  strategy: Strategy) throws(LinalgError) -> (s: [Double], vt: Matrix) {
        func dense() throws(LinalgError) -> (s: [Double], vt: Matrix) {
            // Only Vᵀ is needed: for tall data that skips U entirely.
            let result = try singularValueDecomposition(centred, vectors: .right)
            return (result.s, result.vt!)
        }
        switch strategy {
        case .dense:
            return try dense()
        case .gram:
            return try gramDecomposition(centred)
        case .randomized(let rank, let p, let q, let seed):
            var rng = Xoshiro256StarStar(seed: seed)
            let result = try randomizedSVD(FloatOperator(a: centred.tensor), rank: rank, oversampling: p,
                                           powerIterations: q, using: &rng)
            return (result.s, result.vt)
        case .adaptive(let t, let rankLimit, let q, let seed):
            var rng = Xoshiro256StarStar(seed: seed)
            guard let result = try adaptiveRandomizedSVD(FloatOperator(a: centred.tensor), energy: t, blockSize: 16,
                                                         powerIterations: q, rankLimit: rankLimit, using: &rng) else {
                return try dense()                          // the basis grew past the limit
            }
            return (result.s, result.vt)
        }
    }
}

/// The mean of each column and X − 1μᵀ, in Double (mean 0 and X itself when not centred). Row by row
/// through pointers: the same sums in the same order as a subscripted loop, at memory speed
/// (11264×2048 is 23 M entries).
private func centredData(_ data: Matrix, centred isCentred: Bool) -> (mean: [Double], centred: Matrix) {
    let n = data.rows, f = data.columns
    var mean = [Double](repeating: 0, count: f)
    var centred = data
    if isCentred {
        mean.withUnsafeMutableBufferPointer { mb in
            centred.scalars.withUnsafeMutableBufferPointer { cb in
                let mu = mb.baseAddress!, x = cb.baseAddress!
                for i in 0..<n { axpy(1, x + i * f, mu, f) }            // μ += xᵢ (exact: α = 1)
                for j in 0..<f { mu[j] /= Double(n) }
                for i in 0..<n { axpy(-1, mu, x + i * f, f) }           // xᵢ −= μ
            }
        }
    }
    return (mean, centred)
}

/// scikit-learn's arithmetic, in float32 as it runs on float32 input: σ rounded to Float,
/// variance = σ²/(n − 1), ratio = variance / total. For a complete fit the total is numpy's
/// pairwise sum of the variances; for a truncated one, ‖Xc‖²_F/(n − 1) (as sklearn's randomized
/// solver). The cumulative ratio the count rule reads is np.cumsum of those float32 ratios. An
/// uncentred fit has no scikit-learn counterpart: its ratios are the energy σᵢ²/‖X‖²_F in Double,
/// summed in Double.
private func varianceRatios(_ s: [Double], samples n: Int, limit: Int, centred isCentred: Bool,
                            squaredNorm: @autoclosure () -> Double)
    -> (sigma: [Float], variance: [Float], ratio: [Float], cumulative: [Double], complete: Bool) {
    let sigma = s.map { Float($0) }
    let variance = sigma.map { ($0 * $0) / Float(n - 1) }
    let complete = sigma.count == limit
    let ratio: [Float]
    var cumulative: [Double]
    if isCentred {
        let total = complete ? numpyPairwiseSum(variance) : Float(squaredNorm() / Double(n - 1))
        ratio = variance.map { total > 0 ? $0 / total : 0 }
        var running: Float = 0
        cumulative = ratio.map { running += $0; return Double(running) }
    } else {
        let energy = complete ? s.reduce(0) { $0 + $1 * $1 } : squaredNorm()
        let exact = s.map { energy > 0 ? $0 * $0 / energy : 0 }
        ratio = exact.map { Float($0) }
        var running = 0.0
        cumulative = exact.map { running += $0; return running }
    }
    return (sigma, variance, ratio, cumulative, complete)
}

// MARK: - The spectrum alone

/// What a complete PCA says about its variance — σ, the ratios and their running sum, and so every
/// component count — without the components: from the eigenvalues of the Gram matrix alone
/// (tridiagonalization, then the implicit QR iteration on the values, O(n²)), skipping the
/// eigenvectors (divide and conquer and Q·Z, about half the work of a fit at n = 2048–4096). The
/// ratios are computed by the same arithmetic as `PCA.fit`'s, on σ from the same Gram matrix; only
/// the tridiagonal solver differs (both backward stable: eigenvalues within ~ε·‖G‖ of each other).
public struct PCASpectrum: Sendable {
    /// Singular values of the (centred) data, decreasing: min(n, f) of them.
    public let singularValues: [Float]
    /// Each component's share of the total variance (energy, uncentred).
    public let explainedVarianceRatio: [Float]
    /// cumulativeRatio[i]: the share of the first i + 1 components, as `PCA.cumulativeRatio`.
    public let cumulativeRatio: [Double]
    /// Whether the data were centred.
    public let isCentred: Bool
    /// Whether every component is there (false only for the spectrum of a truncated fit).
    private let isComplete: Bool

    /// min(n, f), the number of components.
    public var componentCount: Int { singularValues.count }

    /// The spectrum of a fit already made (complete or not; a truncated fit's counts past its
    /// components throw, as the fit's own).
    public init(_ pca: PCA) {
        singularValues = pca.singularValues
        explainedVarianceRatio = pca.explainedVarianceRatio
        cumulativeRatio = pca.cumulativeRatio
        isCentred = pca.isCentred
        isComplete = pca.isComplete
    }

    /// The spectrum of `x` (n samples × f features, n ≥ 2), centred or not, as `PCA.fit(x)` would
    /// give it.
    public init(of x: Tensor, centred isCentred: Bool = true) throws(LinalgError) {
        let data = try Matrix(checking: x)
        let n = data.rows, f = data.columns
        guard n >= 2 else { throw .tooFewSamples(found: n, needed: 2) }
        let centred = centredData(data, centred: isCentred).centred
        let g = gramMatrix(centred, ofColumns: n >= f)      // (n, f)ᵀ·(n, f) → (f, f), or (n, f)·(n, f)ᵀ → (n, n)
        let s = try symmetricEigenvalues(g).map { $0 > 0 ? $0.squareRoot() : 0 }
        let r = varianceRatios(s, samples: n, limit: min(n, f), centred: isCentred, squaredNorm: centred.squaredFrobeniusNorm)
        (singularValues, explainedVarianceRatio, cumulativeRatio, self.isCentred, isComplete) =
            (r.sigma, r.ratio, r.cumulative, isCentred, true)
    }

    /// The number of leading components that explain a fraction `t` ∈ (0, 1] of the variance: the
    /// count `PCA.componentCount(forVariance:rule:)` gives on the same ratios.
    public func componentCount(forVariance t: Double, rule: VarianceRule = .reaches) throws(LinalgError) -> Int {
        try countRule(t, rule: rule, cumulative: cumulativeRatio, centred: isCentred, complete: isComplete,
                      components: componentCount)
    }
}

// MARK: - The eigen-route through the Gram matrix

/// σ (descending) and Vᵀ of Xc (n × f) from the eigendecomposition of its Gram matrix.
///
///   n ≥ f:  G = Xcᵀ·Xc (f×f) = V·Σ²·Vᵀ                        → σᵢ = √λᵢ, Vᵀ = Uᵀ
///   n < f:  G = Xc·Xcᵀ (n×n) = U·Σ²·Uᵀ,  vᵢ = Xcᵀ·uᵢ / σᵢ     → Vᵀ = Σ⁻¹·Uᵀ·Xc
///
/// λ < 0 (rounding of a zero eigenvalue) gives σ = 0. In the wide case a row vᵢ = Xcᵀuᵢ/σᵢ inherits
/// uᵢ's error magnified by σ₁/σᵢ, and for σᵢ ≈ 0 (centring leaves rank ≤ n − 1) it is noise: rows
/// whose σᵢ is below `reorthogonalizedBelow`·σ₁ are instead Gram–Schmidt'ed (twice, against every
/// earlier row) from that direction and normalised, so Vᵀ stays orthonormal to ~1e-15.
private func gramDecomposition(_ xc: Matrix) throws(LinalgError) -> (s: [Double], vt: Matrix) {
    let n = xc.rows, f = xc.columns
    let wide = n < f
    let g = gramMatrix(xc, ofColumns: !wide)                 // (n, f)·(n, f)ᵀ → (n, n), or (n, f)ᵀ·(n, f) → (f, f)
    let eigen = try SymmetricEigen(g)
    let s = eigen.values.map { $0 > 0 ? $0.squareRoot() : 0 }
    guard wide else { return (s, eigen.vectors.transposed()) }     // rows of Vᵀ: the eigenvectors

    var vt = multiply(eigen.vectors, xc, transposeA: true)   // (n, n)ᵀ × (n, f) → (n, f): rows σᵢ·vᵢ
    let cutoff = reorthogonalizedBelow * (s.first ?? 0)
    vt.scalars.withUnsafeMutableBufferPointer { buffer in
        let p = buffer.baseAddress!
        for i in 0..<n {
            let row = p + i * f
            if s[i] > cutoff {
                let scale = 1 / s[i]
                for j in 0..<f { row[j] *= scale }
                continue
            }
            // Noise direction: orthogonalise against rows 0..<i twice ("twice is enough"), normalise.
            for _ in 0..<2 {
                for r in 0..<i {
                    let other = p + r * f
                    var d = 0.0
                    for j in 0..<f { d += row[j] * other[j] }
                    for j in 0..<f { row[j] -= d * other[j] }
                }
                var norm = 0.0
                for j in 0..<f { norm += row[j] * row[j] }
                norm = norm.squareRoot()
                if norm == 0 {
                    // A direction with no content at all: the first unit vector not yet spanned.
                    for j in 0..<f { row[j] = 0 }
                    row[(0..<f).first { j in (0..<i).allSatisfy { abs(p[$0 * f + j]) < 0.5 } } ?? 0] = 1
                } else {
                    for j in 0..<f { row[j] /= norm }
                }
            }
        }
    }
    return (s, vt)
}

/// In the wide Gram route, rows vᵢ with σᵢ at or below this·σ₁ are re-orthogonalised: there
/// uᵢ's error ε·σ₁²/gap, magnified by σ₁/σᵢ, would exceed ~1e-8.
private let reorthogonalizedBelow = 1e-4

/// numpy's float32 `np.sum` of a contiguous 1-D array (numpy/_core/src/umath/loops_utils.h.src,
/// pairwise_sum): below 8 values a plain loop; up to 128, eight interleaved accumulators combined as
/// ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus the remainder; above, split in two halves (the first a
/// multiple of 8) and add. Matching it bit for bit makes the ratios equal scikit-learn's when σ are.
package func numpyPairwiseSum(_ values: [Float]) -> Float {
    values.withUnsafeBufferPointer { numpyPairwiseSum($0[...]) }
}

private func numpyPairwiseSum(_ a: Slice<UnsafeBufferPointer<Float>>) -> Float {
    let n = a.count, base = a.startIndex
    if n < 8 {
        var sum: Float = 0
        for x in a { sum += x }
        return sum
    }
    if n <= 128 {
        var r = (0..<8).map { a[base + $0] }
        var i = 8
        while i < n - n % 8 {
            for j in 0..<8 { r[j] += a[base + i + j] }
            i += 8
        }
        var sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n { sum += a[base + i]; i += 1 }
        return sum
    }
    var half = n / 2
    half -= half % 8
    return numpyPairwiseSum(a[base..<(base + half)]) + numpyPairwiseSum(a[(base + half)...])
}

// MARK: - Component counts

/// The count rule on a running sum of ratios (see `PCA.componentCount(forVariance:rule:)`).
private func countRule(_ t: Double, rule: VarianceRule, cumulative: [Double], centred isCentred: Bool,
                       complete isComplete: Bool, components: Int) throws(LinalgError) -> Int {
    guard t > 0 && t <= 1 else { throw .invalidThreshold(t) }
    if t == 1 && rule == .reaches && isComplete { return components }
    // Centred: compared in Float, as numpy compares a float32 array with a Python float.
    let index: Int? = switch (rule, isCentred) {
    case (.reaches, true): cumulative.firstIndex { Float($0) >= Float(t) }
    case (.reaches, false): cumulative.firstIndex { $0 >= t }
    case (.exceeds, _): cumulative.firstIndex { $0 > t }
    }
    if let index { return index + 1 }
    if isComplete { return components }
    throw .varianceNotReached(threshold: t, explained: cumulative.last ?? 0)
}

extension PCA {
    /// The number of leading components that explain a fraction `t` ∈ (0, 1] of the variance, by
    /// `rule` on `cumulativeRatio`. The one count rule of the project: surgery, spectra and the
    /// study's counts all come from here. If a complete fit's ratios sum to just under t by
    /// rounding, all components are needed; a truncated fit that falls short throws
    /// `varianceNotReached`.
    public func componentCount(forVariance t: Double, rule: VarianceRule = .reaches) throws(LinalgError) -> Int {
        try countRule(t, rule: rule, cumulative: cumulativeRatio, centred: isCentred, complete: isComplete,
                      components: componentCount)
    }

    /// The same PCA keeping only the leading `count` components (as scikit-learn stores a fit with
    /// `n_components = count`).
    public func truncated(to count: Int) throws(LinalgError) -> PCA {
        guard (1...componentCount).contains(count) else {
            throw .invalidRank(requested: count, maximum: componentCount)
        }
        let f = featureCount
        return PCA(mean: mean,
                   components: Tensor(shape: [count, f], scalars: Array(components.scalars[0..<(count * f)])),
                   explainedVariance: Array(explainedVariance[0..<count]),
                   explainedVarianceRatio: Array(explainedVarianceRatio[0..<count]),
                   singularValues: Array(singularValues[0..<count]), sampleCount: sampleCount,
                   isComplete: isComplete && count == componentCount, isCentred: isCentred,
                   cumulativeRatio: Array(cumulativeRatio[0..<count]), scores: scores.map { z in leadingColumns(z, count) })
    }
}

// MARK: - Transform and reconstruction

extension PCA {
    /// Coordinates of each row of `x` (r×f) on the leading `components` axes (all by default):
    /// (x − mean)·Cᵀ → (r × components).
    public func transform(_ x: Tensor, components count: Int? = nil) throws(LinalgError) -> Tensor {
        let k = try checkedCount(count)
        let centred = try centredRows(x)
        return matmulTransposed(centred, leadingComponents(k))       // (r, f) × (k, f)ᵀ → (r, k)
    }

    /// Back to feature space: y·C[0..<j] + mean for y (r×j), j ≤ k — scikit-learn's
    /// inverse_transform, using as many leading components as y has columns.
    public func inverseTransform(_ y: Tensor) throws(LinalgError) -> Tensor {
        guard y.rank == 2 else { throw .notAMatrix(shape: y.shape) }
        let j = y.shape[1]
        guard (1...componentCount).contains(j) else { throw .columnMismatch(found: j, expected: componentCount) }
        var out = matmul(y, leadingComponents(j))                     // (r, j) × (j, f) → (r, f)
        addMean(to: &out)
        return out
    }

    /// The rank-`components` reconstruction of the rows of `x`:
    /// (x − mean)·C[0..<c]ᵀ·C[0..<c], plus the mean when `addingMean` (a correct PCA
    /// reconstruction, = inverseTransform(transform(x))). Without the mean it is the original
    /// study's `transform(W)[:, :n] @ components_[:n]`, which never adds it back.
    public func reconstruction(of x: Tensor, components count: Int, addingMean: Bool) throws(LinalgError) -> Tensor {
        let k = try checkedCount(count)
        let basis = leadingComponents(k)
        let coordinates = matmulTransposed(try centredRows(x), basis)   // (r, f) × (k, f)ᵀ → (r, k)
        var out = matmul(coordinates, basis)                            // (r, k) × (k, f) → (r, f)
        if addingMean { addMean(to: &out) }
        return out
    }

    /// The rank-`components` reconstruction of the training rows from the kept scores:
    /// Z[:, :n]·C[:n] (r × f), plus the mean when `addingMean` — equal to
    /// `reconstruction(of: X, components: n, addingMean:)` at one product instead of two.
    public func reconstruction(components count: Int, addingMean: Bool) throws(LinalgError) -> Tensor {
        guard let scores else { throw .scoresNotKept }
        let k = try checkedCount(count)
        var out = matmul(leadingColumns(scores, k), leadingComponents(k))   // (n, k) × (k, f) → (n, f)
        if addingMean { addMean(to: &out) }
        return out
    }

    private func checkedCount(_ count: Int?) throws(LinalgError) -> Int {
        let k = count ?? componentCount
        guard (1...componentCount).contains(k) else { throw .invalidRank(requested: k, maximum: componentCount) }
        return k
    }

    private func leadingComponents(_ k: Int) -> Tensor {
        let f = featureCount
        return Tensor(shape: [k, f], scalars: Array(components.scalars[0..<(k * f)]))
    }

    /// The first `k` columns of a row-major matrix.
    private func leadingColumns(_ z: Tensor, _ k: Int) -> Tensor {
        let rows = z.shape[0], width = z.shape[1]
        guard k < width else { return z }
        var out = [Float](repeating: 0, count: rows * k)
        for i in 0..<rows { for j in 0..<k { out[i * k + j] = z.scalars[i * width + j] } }
        return Tensor(shape: [rows, k], scalars: out)
    }

    private func centredRows(_ x: Tensor) throws(LinalgError) -> Tensor {
        guard x.rank == 2 else { throw .notAMatrix(shape: x.shape) }
        guard x.shape[1] == featureCount else { throw .columnMismatch(found: x.shape[1], expected: featureCount) }
        var out = x
        let f = featureCount
        for i in 0..<x.shape[0] { for j in 0..<f { out.scalars[i * f + j] -= mean[j] } }
        return out
    }

    private func addMean(to x: inout Tensor) {
        let f = featureCount
        for i in 0..<x.shape[0] { for j in 0..<f { x.scalars[i * f + j] += mean[j] } }
    }
}
