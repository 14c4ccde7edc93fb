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
import Linalg

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
    /// cumulative[i] = ratios[0] + … + ratios[i], summed as the count rule sums it (see `CountRule`).
    let cumulative: [Double]
    let rule: CountRule

    var componentLimit: Int { ratios.count }

    // MARK: - Fitting

    /// Fits X (s × f): centred PCA when `centred` (Linalg's `PCA`, exact solver), else the SVD of
    /// X as it is. `label` names the group in errors.
    static func fit(_ x: Tensor, centred: Bool, label: String) throws(SurgeryError) -> Decomposition {
        do {
            return centred ? try fitPCA(x) : try fitSVD(x)
        } catch {
            throw .decompositionFailed(group: label, reason: "\(error)")
        }
    }

    /// scikit-learn's `PCA(n_components=min(s, f), svd_solver='full').fit(X)` and `transform(X)`, as
    /// the study calls them. The ratios are float32, as scikit-learn computes them for float32 weights.
    private static func fitPCA(_ x: Tensor) throws(LinalgError) -> Decomposition {
        let pca = try PCA.fit(x, keeping: .all, solver: .exact)
        let scores = try pca.transform(x)                                    // (s, f) → (s, k)
        var running: Float = 0
        let cumulative = pca.explainedVarianceRatio.map { running += $0; return Double(running) }
        return Decomposition(mean: pca.mean, components: pca.components, scores: scores,
                             ratios: pca.explainedVarianceRatio.map { Double($0) }, cumulative: cumulative, rule: .float32)
    }

    /// X = U Σ Vᵀ (Linalg's dense SVD, in Double): C = Vᵀ, Z = X Vᵀᵀ = U Σ, energy ratios σᵢ²/Σσⱼ².
    /// Only Vᵀ is computed; the scores come from one GEMM. No sign convention is needed: Zₙ Cₙ does
    /// not depend on the signs.
    private static func fitSVD(_ x: Tensor) throws(LinalgError) -> Decomposition {
        let svd = try singularValueDecomposition(try Matrix(checking: x), vectors: .right)
        let components = svd.vt!.tensor                                      // (k, f)
        let scores = matmulTransposed(x, components)                         // (s, f) × (k, f)ᵀ → (s, k)
        let energy = svd.s.reduce(0) { $0 + $1 * $1 }
        let ratios = svd.s.map { energy > 0 ? $0 * $0 / energy : 0 }
        var running = 0.0
        return Decomposition(mean: nil, components: components, scores: scores, ratios: ratios,
                             cumulative: ratios.map { running += $0; return running }, rule: .float64)
    }

    // MARK: - Choosing n

    /// The components a selection keeps: a rank as given, a variance threshold by `componentCount`.
    func componentCount(_ selection: Selection) -> Int {
        switch selection {
        case .rank(let r): return min(r, componentLimit)
        case .variance(let t): return Surgery.componentCount(cumulative: cumulative, threshold: t, rule: rule)
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
