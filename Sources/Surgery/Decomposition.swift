// One group's decomposition, fitted once and reconstructed for any number of components: the
// centred PCA (for `pca` and `seed` centring) or the uncentred SVD (for `none`) of its sample
// matrix X. PCA semantics are scikit-learn's (`PCA(svd_solver='full')`), as in the original study.
//
//   X (s × f) samples · μ (f) column means · C (k × f) components, orthonormal rows, k = min(s, f)
//   Z (s × k) = (X − 1μᵀ) Cᵀ   the scores, scikit-learn's `transform(X)`
//   ratioᵢ = σᵢ² / Σⱼ σⱼ²       explained variance ratio (centred) or energy ratio (uncentred, μ = 0)
//
// Reconstruction from the first n components:
//   pca   X̂ = Z[:, :n] C[:n] + 1μᵀ     (n = k gives X back)
//   seed  X̂ = Z[:, :n] C[:n]           (the study's line; the mean is never added back)
//   none  X̂ = X C[:n]ᵀ C[:n]            (μ = 0, so Z = X Cᵀ: the truncated SVD)
import Tensor

// MARK: - The fitted decomposition

struct Decomposition: Sendable {
    /// μ (f) for a centred fit, nil for an uncentred one.
    let mean: [Float]?
    /// C (k × f): principal axes (right singular vectors), by decreasing singular value.
    let components: Tensor
    /// Z (s × k) = (X − 1μᵀ) Cᵀ.
    let scores: Tensor
    /// Explained-variance (or energy) ratio of each component (k), summing to 1.
    let ratios: [Double]
    /// cumulative[i] = ratios[0] + … + ratios[i].
    let cumulative: [Double]

    var componentLimit: Int { ratios.count }

    init(mean: [Float]?, components: Tensor, scores: Tensor, ratios: [Double]) {
        self.mean = mean
        self.components = components
        self.scores = scores
        self.ratios = ratios
        var running = 0.0
        self.cumulative = ratios.map { running += $0; return running }
    }

    // MARK: - Fitting

    /// Fits X (s × f): centred PCA when `centred`, else the SVD of X as it is. `label` names the
    /// group in errors.
    static func fit(_ x: Tensor, centred: Bool, label: String) throws(SurgeryError) -> Decomposition {
        let s = x.shape[0], f = x.shape[1]
        if centred && s < 2 {
            throw .decompositionFailed(group: label, reason: "PCA needs at least 2 samples, found \(s)")
        }
        if let bad = x.scalars.firstIndex(where: { !$0.isFinite }) {
            throw .decompositionFailed(group: label, reason: "non-finite value at sample \(bad / f), feature \(bad % f)")
        }
        // μ_j = (1/s) Σᵢ X_ij, accumulated in Double, stored in Float as scikit-learn does for float32 X.
        var mean: [Float]? = nil
        var centredX = x
        if centred {
            var sums = [Double](repeating: 0, count: f)
            for i in 0..<s { for j in 0..<f { sums[j] += Double(x.scalars[i * f + j]) } }
            let mu = sums.map { Float($0 / Double(s)) }
            for i in 0..<s { for j in 0..<f { centredX.scalars[i * f + j] -= mu[j] } }
            mean = mu
        }
        let (sigma, vt) = temporaryThinSVD(centredX.scalars.map { Double($0) }, rows: s, columns: f)
        let k = sigma.count
        let components = Tensor(shape: [k, f], scalars: vt.map { Float($0) })
        let scores = matmulTransposed(centredX, components)                 // (s, f) × (k, f)ᵀ → (s, k)
        let energy = sigma.reduce(0) { $0 + $1 * $1 }
        let ratios = sigma.map { energy > 0 ? $0 * $0 / energy : 0 }
        return Decomposition(mean: mean, components: components, scores: scores, ratios: ratios)
    }

    // MARK: - Choosing n

    /// The components a selection keeps.
    ///
    /// Variance threshold t: the smallest n with cumulative[n−1] ≥ t — the study's
    /// `argmax(cumsum(ratio) >= t) + 1`. At t = 1 every component is kept: a rounded cumulative sum
    /// may stop just short of 1, and the study's `argmax` of all-False would then return 1 component,
    /// an accident of numpy, not a choice.
    func componentCount(_ selection: Selection) -> Int {
        switch selection {
        case .rank(let r): return min(r, componentLimit)
        case .variance(let t): return Surgery.componentCount(cumulative: cumulative, threshold: t)
        }
    }

    /// Fraction of the variance (energy) the first n components explain.
    func explained(components n: Int) -> Double { n == 0 ? 0 : cumulative[n - 1] }

    // MARK: - Reconstruction

    /// X̂ (s × f) = Z[:, :n] C[:n] (+ 1μᵀ when `addMean` and the fit is centred).
    func reconstruct(components n: Int, addMean: Bool) -> Tensor {
        let s = scores.shape[0], k = scores.shape[1], f = components.shape[1]
        precondition(n >= 1 && n <= k, "reconstruct: \(n) components of \(k)")
        var zn = [Float](repeating: 0, count: s * n)                         // Z[:, :n]  (s, n)
        for i in 0..<s { for j in 0..<n { zn[i * n + j] = scores.scalars[i * k + j] } }
        let cn = Tensor(shape: [n, f], scalars: Array(components.scalars[0..<(n * f)]))   // C[:n] (n, f)
        var xHat = matmul(Tensor(shape: [s, n], scalars: zn), cn)           // (s, n) × (n, f) → (s, f)
        if addMean, let mean {
            for i in 0..<s { for j in 0..<f { xHat.scalars[i * f + j] += mean[j] } }
        }
        return xHat
    }
}
