// Applying plans to the tiny model: invariants of the reconstructions (identity at 100% variance,
// error equal to the variance left out), the statistics' arithmetic, and the decomposition cache.
import Testing
import TestSupport
import Llama
import Tensor
import Linalg
import Surgery

/// A 100%-variance `pca` surgery reconstructs in Float: a few ulps of ‖W‖ per element.
let identityRelative = 1e-5
/// ‖X − X̂‖² vs (1 − explained)·‖X − μ‖²: both sides computed from Float reconstructions.
let energyIdentityAbsolute = 1e-5

@Suite struct Apply {
    let weights = TinyModel.weights

    @Test(arguments: [Grouping.separate, .sharedKV, .sharedKVLayers(groupSize: 2), .sharedKVLayers(groupSize: nil)])
    func fullVarianceIsTheIdentity(grouping: Grouping) throws {
        let plan = try SurgeryPlan(targets: SurgeryTarget.allCases, grouping: grouping, selection: .variance(1))
        let (surgered, statistics) = try apply(plan, to: weights)
        #expect(statistics.count == 3 * 7)
        for s in statistics {
            #expect(s.components == s.componentLimit, "\(s.matrix)")
            #expect(s.relativeError <= identityRelative, "\(s.matrix): \(s.relativeError)")
            let before = weights.layers[s.matrix.layer][s.matrix.target.tensor]
            let after = surgered.layers[s.matrix.layer][s.matrix.target.tensor]
            #expect(relativeFrobeniusError(before.scalars, after.scalars) <= identityRelative)
        }
    }

    /// Layer by layer, keeping Float, gives exactly `apply`'s weights and statistics (the same fits,
    /// made in another order), holds no fit afterwards, and with bf16 keeps each matrix rounded.
    @Test(arguments: [Grouping.separate, .sharedKV, .sharedKVLayers(groupSize: 2)])
    func layerByLayerEqualsWhole(grouping: Grouping) throws {
        let plan = try SurgeryPlan(targets: [.q, .k, .v, .up], grouping: grouping, selection: .variance(0.7))
        let whole = try Surgeon(base: weights).apply(plan)
        let surgeon = Surgeon(base: weights)
        let streamed = try surgeon.applyLayerByLayer(plan, keep: { WeightMatrix($0) })
        #expect(streamed.statistics == whole.statistics)
        if case .sharedKVLayers = grouping {} else { #expect(surgeon.cachedDecompositions == 0) }
        let rounded = try Surgeon(base: weights).applyLayerByLayer(plan, keep: { WeightMatrix(rounding: $0, to: .bfloat16) })
        for s in whole.statistics {
            let t = s.matrix.target.tensor
            let exact = whole.weights.layers[s.matrix.layer][t]
            #expect(streamed.weights.layers[s.matrix.layer][t] == exact, "\(s.matrix)")
            let bf16 = rounded.weights.layers[s.matrix.layer][matrix: t]
            #expect(bf16.encoding == .bf16)
            #expect(elementDifference(bf16.decoded().scalars, exact.scalars.map { floatFromBFloat16Bits(bfloat16Bits(from: $0)) }) == nil, "\(s.matrix)")
        }
    }

    /// Layers asked for out of order, one at a time: the same matrices and statistics as `apply`,
    /// each layer's fits forgotten at once, a repeated ask served from the held layer.
    @Test func layerByLayerOnDemand() throws {
        let plan = try SurgeryPlan(targets: [.q, .k, .v], grouping: .sharedKV, selection: .variance(0.7))
        let whole = try Surgeon(base: weights).apply(plan)
        let surgeon = Surgeon(base: weights)
        let surgery = try #require(try surgeon.layerByLayer(plan, keep: { WeightMatrix($0) }))
        #expect(surgery.replaced == Array(repeating: [.q, .k, .v], count: weights.layers.count))
        for layer in [2, 0, 1] {
            let made = try surgery.matrices(layer: layer)
            #expect(surgeon.cachedDecompositions == 0)
            #expect(try surgery.matrices(layer: layer)[.k]!.decoded() == made[.k]!.decoded())
            for t in [LayerTensor.q, .k, .v] { #expect(made[t]!.decoded() == whole.weights.layers[layer][t], "\(layer) \(t)") }
        }
        #expect(surgery.statistics == whole.statistics)
        #expect(surgery.latentKV.map { $0 == nil } == whole.latentKV.map { $0 == nil })
        let shared = try SurgeryPlan(targets: [.k, .v], grouping: .sharedKVLayers(groupSize: 2), selection: .variance(0.7))
        #expect(try surgeon.layerByLayer(shared, keep: { WeightMatrix($0) }) == nil)
    }

    @Test func fullRankUncentredIsTheIdentity() throws {
        let plan = try SurgeryPlan(targets: [.q, .k, .v, .down], grouping: .separate, selection: .rank(8), centring: .none)
        let stats = try apply(plan, to: weights).statistics
        for s in stats where s.componentLimit == 8 { #expect(s.relativeError <= identityRelative, "\(s.matrix)") }
    }

    @Test func theInputIsUntouched() throws {
        let before = weights
        let plan = try SurgeryPlan(grouping: .sharedKV, selection: .variance(0.5), centring: .seed)
        let (surgered, _) = try apply(plan, to: weights)
        for l in 0..<3 {
            #expect(weights.layers[l].q.decoded() == before.layers[l].q.decoded())
            #expect(surgered.layers[l].q.decoded() != before.layers[l].q.decoded())
            #expect(surgered.layers[l].o.decoded() == before.layers[l].o.decoded())        // not targeted
        }
    }

    /// For a centred fit, what the first n components leave out is exactly the rest of the variance:
    /// ‖X − X̂‖²_F = (1 − explained)·‖X − 1μᵀ‖²_F (pca); for `none` the same with μ = 0.
    @Test(arguments: [Centring.pca, .none])
    func errorIsTheVarianceLeftOut(centring: Centring) throws {
        let plan = try SurgeryPlan(grouping: .sharedKV, selection: .variance(0.6), centring: centring)
        let result = try apply(plan, to: weights)
        for group in try plan.groups(for: weights) {
            let x = group.samples(in: weights)
            let xHat = group.samples(in: result.weights)
            let s = x.shape[0], f = x.shape[1]
            var mean = [Double](repeating: 0, count: f)
            if centring == .pca { for i in 0..<s { for j in 0..<f { mean[j] += Double(x[i, j]) / Double(s) } } }
            var left = 0.0, total = 0.0
            for i in 0..<s { for j in 0..<f {
                let d = Double(x[i, j]) - Double(xHat[i, j]), c = Double(x[i, j]) - mean[j]
                left += d * d; total += c * c
            } }
            let explained = result.statistics.first { $0.group == group.label }!.varianceExplained
            #expect(explained >= 0.6)
            #expect(abs(left / total - (1 - explained)) <= energyIdentityAbsolute, "\(group.label)")
        }
    }

    /// The study's reconstruction drops the mean: at 100% variance it returns W − 1μᵀ.
    @Test func seedAtFullVarianceIsTheCentredMatrix() throws {
        let plan = try SurgeryPlan(targets: [.q], grouping: .separate, selection: .variance(1), centring: .seed)
        let result = try apply(plan, to: weights)
        let w = weights.layers[0].q.decoded(), r = result.weights.layers[0].q.decoded()
        var centred = w
        for j in 0..<16 {
            var mean: Float = 0
            for i in 0..<16 { mean += w[i, j] / 16 }
            for i in 0..<16 { centred[i, j] -= mean }
        }
        #expect(relativeFrobeniusError(centred.scalars, r.scalars) <= identityRelative)
    }

    @Test func sharedKVSharesOneBasis() throws {
        // Rank 3 on [K; V]: every row of K̂ and V̂ lies in one 3-dimensional affine subspace,
        // so the stacked centred reconstruction has rank 3 — checked through its Gram determinant
        // being ~0 for 4 rows of the stack, not for 3.
        let plan = try SurgeryPlan(grouping: .sharedKV, selection: .rank(3))
        let result = try apply(plan, to: weights)
        let stats = result.statistics.filter { $0.matrix.layer == 0 && $0.matrix.target != .q }
        #expect(stats.map(\.components) == [3, 3])
        #expect(stats.allSatisfy { $0.group == "layer 0 k+v" && $0.groupSize == 2 })
    }

    @Test func statisticsArithmetic() throws {
        // shared-kv, rank 3, pca centring on the tiny model (per layer):
        //   q (16, 16): coefficients 16·3 = 48, basis 3·16 + 16 (mean) = 64 → 112 of 256 dense
        //   k, v (8, 16) stacked (16, 16): coefficients 8·3 = 24 each, basis 64 shared → 24 + 32 = 56 each
        //   layer: 48 + 64 + 24 + 24 + 64 = 224 of 512 → ratio 0.4375
        let plan = try SurgeryPlan(grouping: .sharedKV, selection: .rank(3))
        let stats = try apply(plan, to: weights).statistics
        let q = stats[0], k = stats[1], v = stats[2]
        #expect(q.matrix == MatrixID(layer: 0, target: .q) && k.matrix.target == .k && v.matrix.target == .v)
        #expect(q.denseParameters == 256 && q.coefficientParameters == 48 && q.groupBasisParameters == 64)
        #expect(q.basisShare == 1 && q.factoredParameters == 112 && q.factoredRatio == 112.0 / 256)
        #expect(k.denseParameters == 128 && k.coefficientParameters == 24 && k.groupBasisParameters == 64)
        #expect(k.basisShare == 0.5 && k.factoredParameters == 56 && v.factoredParameters == 56)
        let summary = SurgerySummary(statistics: stats)
        #expect(summary.matrixCount == 9)
        #expect(summary.denseParameters == 3 * 512)
        #expect(summary.factoredParameters == 3 * 224)
        #expect(summary.factoredParameterRatio == 0.4375)
        #expect(summary.meanComponentsQ == 3 && summary.meanComponentsKV == 3)

        // seed centring never adds the mean: the basis is 3·16 = 48.
        let seed = try apply(SurgeryPlan(grouping: .sharedKV, selection: .rank(3), centring: .seed), to: weights).statistics
        #expect(seed[1].groupBasisParameters == 48)
        // Across all 3 layers: one basis (3·16 + 16) for 6 matrices of 8 samples each, share 1/6.
        let all = try apply(SurgeryPlan(grouping: .sharedKVLayers(groupSize: nil), selection: .rank(3)), to: weights)
        let kv = all.statistics.filter { $0.matrix.target != .q }
        #expect(kv.count == 6 && kv.allSatisfy { $0.basisShare == 1.0 / 6 && $0.groupBasisParameters == 64 })
        let expected: Int = 3 * 112 + 6 * 24 + 64
        #expect(SurgerySummary(statistics: all.statistics).factoredParameters == expected)
    }

    @Test func componentCountsAndMeans() throws {
        let result = try Surgeon(base: weights).apply(SurgeryPlan(grouping: .separate, selection: .variance(0.8)))
        let s = result.summary
        let q = result.statistics.filter { $0.matrix.target == .q }.map(\.components)
        let kv = result.statistics.filter { $0.matrix.target != .q }.map(\.components)
        #expect(s.meanComponentsQ == Double(q.reduce(0, +)) / 3)
        #expect(s.meanComponentsKV == Double(kv.reduce(0, +)) / 6)
        #expect(result.statistics.allSatisfy { $0.varianceExplained >= 0.8 })
    }

    @Test func decompositionsAreReused() throws {
        let surgeon = Surgeon(base: weights)
        var plans: [SurgeryPlan] = []
        for t in [0.99, 0.9, 0.5] {
            for grouping in [Grouping.separate, .sharedKV] {
                for centring in [Centring.pca, .seed] {
                    plans.append(try SurgeryPlan(grouping: grouping, selection: .variance(t), centring: centring))
                }
            }
        }
        try surgeon.prepare(plans)
        // per layer: q, k, v (separate) and k+v (shared), centred: 4 × 3 layers
        #expect(surgeon.cachedDecompositions == 12)
        for plan in plans { _ = try surgeon.apply(plan) }
        #expect(surgeon.cachedDecompositions == 12)
        _ = try surgeon.apply(SurgeryPlan(grouping: .sharedKV, selection: .variance(0.9), centring: .none))
        #expect(surgeon.cachedDecompositions == 18)
    }

    @Test func lowerThresholdsKeepFewerComponents() throws {
        let surgeon = Surgeon(base: weights)
        var previous = Int.max
        for t in [1.0, 0.99, 0.9, 0.7, 0.5, 0.3, 0.1] {
            let total = try surgeon.apply(SurgeryPlan(grouping: .sharedKV, selection: .variance(t))).statistics
                .reduce(0) { $0 + $1.components }
            #expect(total <= previous)
            previous = total
        }
    }

    @Test func resultAsText() throws {
        let result = try Surgeon(base: weights).apply(SurgeryPlan(grouping: .sharedKV, selection: .rank(3)))
        let text = result.markdown()
        #expect(text.hasPrefix("Plan: q,k,v · shared-kv · rank 3 · centring pca\n"))
        #expect(text.contains("q: 3.0 components (mean) · k/v: 3.0 · factored/dense 0.438 (672 of 1536 parameters)"))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("| ") }.count == 1 + 9)
        #expect(text.contains("| 1 | k | layer 1 k+v | 3 / 16 |"))
    }
}
