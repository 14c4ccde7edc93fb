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
    /// compares a float32 array with a Python float in float32).
    case reaches
    /// The smallest n whose cumulative ratio is > t, compared in Double: scikit-learn's own
    /// `PCA(n_components=t)`, i.e. `np.searchsorted(ratio_cumsum, t, side="right") + 1`.
    case exceeds
}

/// A fitted PCA. Create one with `PCA.fit(_:keeping:solver:)`.
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
        /// Randomized SVD (fixed count: HMT 2011; variance target: randQB_EI), seeded by `seed`
        /// through `Xoshiro256StarStar`. Ratios are relative to the exact total variance.
        case randomized(oversampling: Int = 10, powerIterations: Int = 4, seed: UInt64 = 0)
        /// `.exact` when the fit keeps all components or min(n, f) ≤ `PCA.autoExactLimit`;
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

    /// f, the number of features.
    public var featureCount: Int { mean.count }
    /// k, the number of components kept.
    public var componentCount: Int { singularValues.count }
}

// MARK: - Fit

extension PCA {
    /// Fits a PCA to `x` (n samples × f features, n ≥ 2).
    public static func fit(_ x: Tensor, keeping keep: Keep = .all, solver: Solver = .auto) throws(LinalgError) -> PCA {
        let data = try Matrix(checking: x)
        let n = data.rows, f = data.columns, limit = min(n, f)
        guard n >= 2 else { throw .tooFewSamples(found: n, needed: 2) }
        switch keep {
        case .all: break
        case .count(let k): guard (1...limit).contains(k) else { throw .invalidRank(requested: k, maximum: limit) }
        case .variance(let t): guard t > 0 && t <= 1 else { throw .invalidThreshold(t) }
        }

        // Centre: mean and Xc = X − mean in Double.
        var mean = [Double](repeating: 0, count: f)
        for i in 0..<n { for j in 0..<f { mean[j] += data[i, j] } }
        for j in 0..<f { mean[j] /= Double(n) }
        var centred = data
        for i in 0..<n { for j in 0..<f { centred[i, j] -= mean[j] } }

        // The solver: `.auto` keeps the dense SVD for small matrices and for fits that keep many
        // components, where randomized sampling saves little (README: measured crossover).
        var s: [Double] = []
        var vt = Matrix(rows: 0, columns: 0)
        var useRandomized = false
        var oversampling = 10, powerIterations = 4, seed: UInt64 = 0
        var rankLimit: Int? = nil
        switch solver {
        case .exact:
            break
        case .randomized(let p, let q, let chosenSeed):
            guard p >= 0 else { throw .invalidParameter(name: "oversampling", value: p, expected: "≥ 0") }
            guard q >= 0 else { throw .invalidParameter(name: "powerIterations", value: q, expected: "≥ 0") }
            (oversampling, powerIterations, seed) = (p, q, chosenSeed)
            useRandomized = true                           // whatever the size
        case .auto:
            if keep != .all && limit > autoExactLimit {
                rankLimit = Int(autoRandomizedFraction * Double(limit))
                useRandomized = true
            }
        }
        if useRandomized {
            var rng = Xoshiro256StarStar(seed: seed)
            let product = FloatOperator(a: centred.tensor)      // Xc in Float for the big products
            switch keep {
            case .all, .count:
                var k = limit
                if case .count(let c) = keep { k = c }
                if let rankLimit, k > rankLimit {
                    useRandomized = false
                } else {
                    let result = try randomizedSVD(product, rank: k, oversampling: oversampling,
                                                   powerIterations: powerIterations, using: &rng)
                    (s, vt) = (result.s, result.vt)
                }
            case .variance(let t):
                if let result = try adaptiveRandomizedSVD(product, energy: t, blockSize: 16,
                                                          powerIterations: min(powerIterations, 2),
                                                          rankLimit: rankLimit, using: &rng) {
                    (s, vt) = (result.s, result.vt)
                } else {
                    useRandomized = false
                }
            }
        }
        if !useRandomized {
            // The dense SVD. Only Vᵀ is needed: for tall data that skips U entirely.
            let result = try singularValueDecomposition(centred, vectors: .right)
            s = result.s
            vt = result.vt!
        }
        var noU: Matrix? = nil
        flipSignsByV(u: &noU, vt: &vt)

        // scikit-learn's arithmetic, in float32 as it runs on float32 input: σ rounded to Float,
        // variance = σ²/(n − 1), ratio = variance / total. For a complete fit the total is numpy's
        // pairwise sum of the variances; for a truncated one, ‖Xc‖²_F/(n − 1) (as sklearn's
        // randomized solver).
        let sigma = s.map { Float($0) }
        let variance = sigma.map { ($0 * $0) / Float(n - 1) }
        let complete = sigma.count == limit
        let total = complete ? numpyPairwiseSum(variance) : Float(centred.squaredFrobeniusNorm / Double(n - 1))
        let ratio = variance.map { total > 0 ? $0 / total : 0 }

        var pca = PCA(mean: mean.map { Float($0) }, components: vt.tensor, explainedVariance: variance,
                      explainedVarianceRatio: ratio, singularValues: sigma, sampleCount: n, isComplete: complete)
        if case .variance(let t) = keep {
            // A randomized fit stops once Σσ² ≥ t·‖Xc‖² in Double; if the Float ratios land a hair
            // short of t, keep everything it found.
            let count = (try? pca.componentCount(forVariance: t)) ?? pca.componentCount
            pca = try pca.truncated(to: count)
        } else if case .count(let k) = keep, k < pca.componentCount {
            pca = try pca.truncated(to: k)
        }
        return pca
    }
}

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

extension PCA {
    /// The number of leading components that explain a fraction `t` ∈ (0, 1] of the variance, by
    /// `rule` on the cumulative explained-variance ratio summed in Float from the first component
    /// (as `np.cumsum` does). If a complete fit's ratios sum to just under t by rounding, all
    /// components are needed; a truncated fit that falls short throws `varianceNotReached`.
    public func componentCount(forVariance t: Double, rule: VarianceRule = .reaches) throws(LinalgError) -> Int {
        guard t > 0 && t <= 1 else { throw .invalidThreshold(t) }
        var cumulative: Float = 0
        for (i, r) in explainedVarianceRatio.enumerated() {
            cumulative += r
            switch rule {
            case .reaches: if cumulative >= Float(t) { return i + 1 }
            case .exceeds: if Double(cumulative) > t { return i + 1 }
            }
        }
        if isComplete { return componentCount }
        throw .varianceNotReached(threshold: t, explained: Double(cumulative))
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
                   isComplete: isComplete && count == componentCount)
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

    private func checkedCount(_ count: Int?) throws(LinalgError) -> Int {
        let k = count ?? componentCount
        guard (1...componentCount).contains(k) else { throw .invalidRank(requested: k, maximum: componentCount) }
        return k
    }

    private func leadingComponents(_ k: Int) -> Tensor {
        let f = featureCount
        return Tensor(shape: [k, f], scalars: Array(components.scalars[0..<(k * f)]))
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
