// The activation basis: PCA of what a group of matrices computes on the inputs the layer really
// sees, instead of PCA of the weight rows (the study's method).
//
// A group stacks the matrices that read one input x (D values, the attention input of one layer):
// W = [W₁; W₂; …] (s × D), e.g. [W_k; W_v] with s = 2·G·Dh. Over calibration inputs with second
// moment C = Σ_t x_t x_tᵀ (D × D), the best rank-r replacement Ŵ minimises the output error
//
//   E‖(W − Ŵ) x‖² = tr((W − Ŵ) C (W − Ŵ)ᵀ).
//
// Its optimum is the projection on the leading eigenvectors of the outputs' second moment:
//
//   M = W C Wᵀ  (s × s),   M = U Λ Uᵀ (Λ descending),   Ŵ = U_r U_rᵀ W.
//
// (Write W C^{1/2} = Ũ Σ Ṽᵀ; the Eckart–Young optimum of ‖(W − Ŵ) C^{1/2}‖_F keeps Ũ_r, and
// M = Ũ Σ² Ũᵀ, so U = Ũ: SVD-LLM's whitened SVD, without a Cholesky factor of C.) The kept
// fraction of output energy is Σ_{i≤r} λ_i / Σ λ_i, and the error is the rest: tr((W − Ŵ) C (W − Ŵ)ᵀ)
// = Σ_{i>r} λ_i. As a latent: c = (U_rᵀ W) x (r values per token) and [k; v] = U_r c.
//
// K/V balance (TransMLA): K's outputs can carry most of the energy and take all the rank. Scale K's
// rows by α = ‖V X‖_F / ‖K X‖_F = √(tr M_vv / tr M_kk) first (S = diag(α…, 1…)), decompose
// M' = S M S, and undo the scale after: Ŵ = S⁻¹ U_r U_rᵀ S W.
import Tensor
import Linalg

/// One group's output PCA, fitted once; every rank is a truncation.
struct OutputPCA: Sendable {
    /// λ, descending, negatives from rounding clamped to 0.
    let eigenvalues: [Double]
    /// U (s × s), eigenvectors in columns, in the order of λ.
    let vectors: Matrix
    /// S's diagonal: the row scale applied before the decomposition (1 without balance).
    let rowScale: [Double]
    /// S W (s × D), in Double.
    let scaledWeights: Matrix
    /// Σ_{i≤r} λ_i / Σ λ_i for r = 1…s.
    let cumulative: [Double]
    /// C (D × D), kept to measure each member's output energy.
    let moment: Matrix

    /// Fits the output PCA of `weights` (the members' matrices, in stacking order, each (sᵢ × D)) under
    /// input second moment `moment` (D × D); with `balanced`, the first member's rows (K) are scaled
    /// to the second's (V) output energy.
    init(weights members: [Tensor], moment c: [Double], balanced: Bool, label: String) throws(SurgeryError) {
        let d = members[0].shape[1]
        let s = members.reduce(0) { $0 + $1.shape[0] }
        var w = Matrix(rows: s, columns: d)
        var offset = 0
        for member in members {
            for i in 0..<member.count { w.scalars[offset + i] = Double(member.scalars[i]) }
            offset += member.count
        }
        let cMatrix = Matrix(rows: d, columns: d, scalars: c)
        var m = multiply(w, multiply(cMatrix, w, transposeB: true))          // W C Wᵀ (s × s)
        var scale = [Double](repeating: 1, count: s)
        if balanced {
            precondition(members.count == 2, "balance needs a K and a V")
            let sk = members[0].shape[0]
            let traceK = (0..<sk).reduce(0.0) { $0 + m[$1, $1] }
            let traceV = (sk..<s).reduce(0.0) { $0 + m[$1, $1] }
            guard traceK > 0, traceV > 0 else {
                throw .decompositionFailed(group: label, reason: "K or V computes nothing on the calibration text (zero output energy)")
            }
            let alpha = (traceV / traceK).squareRoot()
            for i in 0..<sk { scale[i] = alpha }
            for i in 0..<s { for j in 0..<s { m.scalars[i * s + j] *= scale[i] * scale[j] } }   // S M S
            for i in 0..<s { for j in 0..<d { w.scalars[i * d + j] *= scale[i] } }              // S W
        }
        for i in 0..<s {                                                                       // exact symmetry
            for j in (i + 1)..<s {
                let mean = (m.scalars[i * s + j] + m.scalars[j * s + i]) / 2
                m.scalars[i * s + j] = mean
                m.scalars[j * s + i] = mean
            }
        }
        let (values, vectors) = try symmetricEigen(m, label: label)
        let total = values.reduce(0, +)
        guard total > 0, total.isFinite else {
            throw .decompositionFailed(group: label, reason: "the outputs have no energy on the calibration text")
        }
        var running = 0.0
        cumulative = values.map { running += $0; return min(running / total, 1) }
        eigenvalues = values
        self.vectors = vectors
        rowScale = scale
        scaledWeights = w
        moment = cMatrix
    }

    var componentLimit: Int { min(vectors.rows, scaledWeights.columns) }

    /// The smallest r whose kept energy reaches t (all at t = 1).
    func components(reaching t: Double) -> Int {
        if t >= 1 { return componentLimit }
        return (cumulative.firstIndex { $0 >= t } ?? (componentLimit - 1)) + 1
    }

    func explained(components r: Int) -> Double { r == 0 ? 0 : cumulative[min(r, cumulative.count) - 1] }

    /// Ŵ = S⁻¹ U_r (U_rᵀ S W) (s × D), as Float.
    func reconstruction(rank r: Int) -> Tensor {
        let s = vectors.rows, d = scaledWeights.columns
        let ur = vectors.columns(0..<r)                                  // (s × r)
        let latent = multiply(ur, scaledWeights, transposeA: true)       // U_rᵀ S W (r × D)
        let back = multiply(ur, latent)                                  // (s × D)
        var out = Tensor(zeros: [s, d])
        for i in 0..<s {
            let unscale = 1 / rowScale[i]
            for j in 0..<d { out.scalars[i * d + j] = Float(back.scalars[i * d + j] * unscale) }
        }
        return out
    }

    /// 1 − tr(E C Eᵀ) / tr(W C Wᵀ) for one member: the fraction of its own output energy on the
    /// calibration inputs that its reconstruction keeps (E = W − Ŵ, both unscaled).
    func outputEnergyKept(original: Tensor, reconstructed: Tensor) -> Double {
        let rows = original.shape[0], d = original.shape[1]
        var w = Matrix(rows: rows, columns: d), e = Matrix(rows: rows, columns: d)
        for i in 0..<(rows * d) {
            w.scalars[i] = Double(original.scalars[i])
            e.scalars[i] = Double(original.scalars[i]) - Double(reconstructed.scalars[i])
        }
        func energy(_ a: Matrix) -> Double {                             // tr(A C Aᵀ) = Σ (A C) ∘ A
            let ac = multiply(a, moment)
            return zip(ac.scalars, a.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let total = energy(w)
        return total > 0 ? 1 - energy(e) / total : 1
    }
}

/// M = U Λ Uᵀ for a symmetric positive semi-definite M, λ descending (Linalg's `SymmetricEigen`:
/// Householder tridiagonalisation and implicit QR, in Double); rounding's negatives clamped to 0.
func symmetricEigen(_ m: Matrix, label: String) throws(SurgeryError) -> (values: [Double], vectors: Matrix) {
    do {
        let eigen = try SymmetricEigen(m)
        return (eigen.values.map { max($0, 0) }, eigen.vectors)
    } catch {
        throw .decompositionFailed(group: label, reason: "\(error)")
    }
}
