// One group's decomposition, as the `Surgeon` caches it: Linalg's `PCA` of the group's sample
// matrix X, centred for `pca` and `seed` centring, uncentred for `none`, scores kept, so that every
// selection is a truncation and every reconstruction one product. PCA semantics are scikit-learn's
// (`PCA(svd_solver='full')`), as in the original study; the count rule and the reconstruction are
// Linalg's (`PCA.componentCount(forVariance:)`, `PCA.reconstruction(components:addingMean:)`).
//
//   pca   X̂ = Z[:, :n] C[:n] + 1μᵀ     (n = k gives X back)
//   seed  X̂ = Z[:, :n] C[:n]           (the study's line; the mean is never added back)
//   none  X̂ = X C[:n]ᵀ C[:n]            (μ = 0, so Z = X Cᵀ: the truncated SVD)
import Tensor
import Linalg

extension PCA {
    /// The complete fit of a group's samples X (s × f) by `.auto` (the Gram eigen-route), scores kept; `label` names the group in errors.
    static func fitGroup(_ x: Tensor, centred: Bool, label: String) throws(SurgeryError) -> PCA {
        do {
            return try PCA.fit(x, keeping: .all, solver: .auto, centred: centred, keepingScores: true)
        } catch {
            throw .decompositionFailed(group: label, reason: "\(error)")
        }
    }

    /// The components a threshold t keeps, by Linalg's count rule.
    func components(reaching t: Double) -> Int {
        (try? componentCount(forVariance: t)) ?? componentCount                 // complete fits never throw
    }

    /// Fraction of the variance (energy) the first n components explain.
    func explained(components n: Int) -> Double { n == 0 ? 0 : cumulativeRatio[n - 1] }
}

extension PCASpectrum {
    /// The components a threshold t keeps, by Linalg's count rule (as `PCA.components(reaching:)`).
    func components(reaching t: Double) -> Int {
        (try? componentCount(forVariance: t)) ?? componentCount                 // complete spectra never throw
    }
}
