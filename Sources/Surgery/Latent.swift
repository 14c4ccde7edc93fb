// A shared K/V basis as a latent: the reconstruction of a stacked group [K; V] (s × D) is a product
// Ŵ = B A of an up-projection B (s × r) and a down-projection A (r × D), so K x and V x come from
// one latent c = A x per token (Llama's LatentKV). The factors are the fit's own, not a new
// factorisation of Ŵ:
//
//   weights basis, seed    Ŵ = Z_n C_n                 A = C_n          B = Z_n
//   weights basis, none    Ŵ = X C_nᵀ C_n              A = C_n          B = X C_nᵀ (the scores)
//   weights basis, pca     Ŵ = Z_n C_n + 1 μᵀ          A = [C_n; μᵀ]    B = [Z_n  1]
//   activation basis       Ŵ = S⁻¹ U_r (U_rᵀ S W)      A = U_rᵀ S W     B = S⁻¹ U_r
//
// True PCA adds the mean row μ to every row of K and V, so each output also carries μᵀx: one more
// latent value per token (r = n + 1). A group across layers shares A; each layer has its own rows of B.
import Tensor
import Linalg
import Llama

extension PCA {
    /// (A, B) with B A = `reconstruction(components: n, addingMean:)`; needs the scores.
    func latentFactors(components n: Int, addingMean: Bool) -> (down: Tensor, up: Tensor) {
        let z = scores!, s = z.shape[0], k = z.shape[1], f = featureCount
        let r = addingMean ? n + 1 : n
        var down = Tensor(zeros: [r, f]), up = Tensor(zeros: [s, r])
        down.scalars.replaceSubrange(0..<(n * f), with: components.scalars[0..<(n * f)])
        if addingMean { down.scalars.replaceSubrange((n * f)..<(r * f), with: mean) }
        for i in 0..<s {
            for j in 0..<n { up.scalars[i * r + j] = z.scalars[i * k + j] }
            if addingMean { up.scalars[i * r + n] = 1 }
        }
        return (down, up)
    }
}

extension OutputPCA {
    /// (A, B) with B A = `reconstruction(rank: r)`: A = U_rᵀ S W (r × D), B = S⁻¹ U_r (s × r).
    func latentFactors(rank r: Int) -> (down: Tensor, up: Tensor) {
        let s = vectors.rows, d = scaledWeights.columns
        let ur = vectors.columns(0..<r)                                  // (s × r)
        let latent = multiply(ur, scaledWeights, transposeA: true)       // (r × D)
        var down = Tensor(zeros: [r, d]), up = Tensor(zeros: [s, r])
        for i in 0..<(r * d) { down.scalars[i] = Float(latent.scalars[i]) }
        for i in 0..<s {
            for j in 0..<r { up.scalars[i * r + j] = Float(ur.scalars[i * r + j] / rowScale[i]) }
        }
        return (down, up)
    }
}

extension MatrixGroup {
    /// Whether the group stacks K and V of its layers (k before v, layer by layer), so its
    /// reconstruction is a latent.
    var isKVStack: Bool {
        orientation == .rows && members.count.isMultiple(of: 2)
            && stride(from: 0, to: members.count, by: 2).allSatisfy { i in
                members[i].target == .k && members[i + 1] == MatrixID(layer: members[i].layer, target: .v)
            }
    }

    /// Per layer of the group, its LatentKV: the shared A and the member rows of B.
    func latents(down: Tensor, up: Tensor) -> [(layer: Int, factors: LatentKV)] {
        precondition(isKVStack, "\(label) is not a K/V stack")
        let r = up.shape[1]
        func rows(ofMember index: Int) -> Tensor {
            let range = sampleRange(ofMember: index)
            return Tensor(shape: [range.count, r], scalars: Array(up.scalars[(range.lowerBound * r)..<(range.upperBound * r)]))
        }
        return stride(from: 0, to: members.count, by: 2).map { i in
            (members[i].layer, LatentKV(down: down, keyUp: rows(ofMember: i), valueUp: rows(ofMember: i + 1)))
        }
    }
}
