// A shared K/V basis handed out as a latent (Latent.swift): for every basis and centring the factors
// multiply back to the dense reconstruction, the model run from them gives the dense model's logits,
// and the KV-cache fraction counts their rank. The dense reconstructions themselves are checked
// against numpy and scikit-learn in ActivationBasisTests and StudyReferenceTests.
import Testing
import Llama
import Tensor
import TestSupport
import Surgery

/// B A against Ŵ: the same Float factors summed in another order (Ŵ = Z_n C_n by one GEMM, or from
/// Double for the activation basis), entries ≤ 0.3 in magnitude: a few float32 roundings.
private let factorsMaxAbs: Float = 1e-5
/// The bound for the latent model against the dense reconstruction.
private let logitsMaxAbs: Float = 1e-4

private enum Tiny {
    static let model: Model = {
        do { return try Model(checkpoint: Checkpoint.open(Fixtures.path("tiny/f32"))) } catch { fatalError("\(error)") }
    }()
    static let ids: [Int] = {
        do { return try Fixtures.int32s("model/tiny_prefill_2_ids.i32").map(Int.init) } catch { fatalError("\(error)") }
    }()
    /// Calibration from the model itself on the fixture sequence (the statistics are not under test here).
    static let calibration = ActivationStatistics.measure(model, windows: [ids])
}

private func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

struct LatentCase: Sendable, CustomTestStringConvertible {
    let basis: Basis, centring: Centring, grouping: Grouping
    var testDescription: String { "\(basis) \(centring) \(grouping)" }
    /// True PCA's mean row takes one more latent value.
    var extraRank: Int { centring == .pca ? 1 : 0 }
}

@Suite struct LatentTests {
    static let cases = [
        LatentCase(basis: .weights, centring: .pca, grouping: .sharedKV),
        LatentCase(basis: .weights, centring: .seed, grouping: .sharedKV),
        LatentCase(basis: .weights, centring: .none, grouping: .sharedKV),
        LatentCase(basis: .weights, centring: .pca, grouping: .sharedKVLayers(groupSize: nil)),
        LatentCase(basis: .activations(balanced: false), centring: .none, grouping: .sharedKV),
        LatentCase(basis: .activations(balanced: true), centring: .none, grouping: .sharedKV),
    ]

    @Test(arguments: cases, [3, 20])
    func latentEqualsDenseReconstruction(_ c: LatentCase, rank: Int) throws {
        let surgeon = Surgeon(base: Tiny.model.weights, calibration: Tiny.calibration)
        let plan = try SurgeryPlan(targets: [.k, .v], grouping: c.grouping, selection: .rank(rank), centring: c.centring,
                                   basis: c.basis)
        let result = try surgeon.apply(plan)
        let latent = try #require(result.latentWeights)
        for (layer, weights) in latent.layers.enumerated() {
            let factors = try #require(weights.latentKV, "layer \(layer) has no factors")
            #expect(factors.rank == rank + c.extraRank)
            #expect(maxAbsDifference(factors.denseKeys.scalars, result.weights.layers[layer].k.decoded().scalars) <= factorsMaxAbs)
            #expect(maxAbsDifference(factors.denseValues.scalars, result.weights.layers[layer].v.decoded().scalars) <= factorsMaxAbs)
        }
        if case .sharedKVLayers = c.grouping {
            #expect(latent.layers[0].latentKV!.down == latent.layers[1].latentKV!.down, "one basis across layers: one A")
        }
        let dense = Tiny.model.replacingWeights(result.weights).logits(Tiny.ids).scalars
        let fromLatent = Tiny.model.replacingWeights(latent).logits(Tiny.ids).scalars
        #expect(maxAbsDifference(fromLatent, dense) <= logitsMaxAbs)
        // The tiny model's K and V are 32 rows each: the latent keeps r of 64 values per token.
        #expect(abs(result.kvCacheFraction - Double(rank + c.extraRank) / 64) < 1e-12)
    }

    /// K and V with bases of their own are no latent; neither is a plan that leaves them alone.
    @Test func noLatentWithoutSharedBasis() throws {
        let surgeon = Surgeon(base: Tiny.model.weights)
        for plan in [try SurgeryPlan(targets: [.k, .v], grouping: .separate, selection: .rank(8), centring: .pca),
                     try SurgeryPlan(targets: [.q], grouping: .separate, selection: .rank(8), centring: .pca)] {
            let result = try surgeon.apply(plan)
            #expect(result.latentWeights == nil)
            #expect(result.latentKV.allSatisfy { $0 == nil })
        }
    }
}
