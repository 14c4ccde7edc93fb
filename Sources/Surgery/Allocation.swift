// Per-layer ranks for a KV-cache budget, by measured sensitivity.
//
// A budget F keeps R = Σ_l round(F · n_l) of the Σ_l n_l K/V rows per token (n_l = 2·G·Dh for a
// shared K/V basis). Uniform ranks give every layer the same share; layers differ in how much
// they lose. Each layer's loss at rank r is modelled as
//
//   loss_l(r) = w_l · (1 − e_l(r)),    e_l(r) = kept fraction of its spectrum (variance or output energy),
//
// with w_l = KL_l / (1 − e_l(p_l)) measured once: KL_l is the KL divergence from the base model when
// layer l alone is truncated at the uniform rank p_l, on a few calibration windows. Σ_l loss_l is
// then minimised under Σ_l r_l = R by greedy water-filling: start every layer at rank 1 and give
// each next rank to the layer whose loss drops most, w_l · (e_l(r + 1) − e_l(r)). The spectra
// decrease, so each layer's gains do too and the greedy choice is optimal for the model.
import Llama

/// The ranks a budget allocation chose, and what it measured.
public struct KVAllocation: Sendable {
    public let budget: Double
    /// The uniform rank of each layer at the budget (the probe rank).
    public let probeRanks: [Int]
    /// KL(base ‖ model with only layer l truncated at its probe rank), nats per token.
    public let probeKL: [Double]
    /// The allocated rank of each layer; Σ ranks = Σ probeRanks.
    public let ranks: [Int]
    /// The input plan with `.layerRanks(ranks)`.
    public let plan: SurgeryPlan
}

extension Surgeon {
    /// Allocates the ranks of a shared K/V plan with a `.kvBudget(F)` selection. `probe` returns the
    /// mean KL of a model with the given weights against the base; `progress` counts the probes.
    public func allocate(_ plan: SurgeryPlan, probe: (Weights) throws -> Double,
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> KVAllocation {
        guard case .kvBudget(let budget) = plan.selection else { throw SurgeryError.allocationNeedsBudget }
        guard case .sharedKV = plan.grouping else { throw SurgeryError.allocationNeedsSharedKV(mode: plan.grouping.description) }
        let groups = try plan.groups(for: base)
        let layers = base.layers.count
        var curves = [[Double]](repeating: [], count: layers)
        var probeRanks = [Int](repeating: 0, count: layers)
        for group in groups {
            let layer = group.members[0].layer
            curves[layer] = try cumulative(of: group, under: plan)
            probeRanks[layer] = plan.selection.components(layer: layer, rows: group.sampleCount, limit: curves[layer].count) { _ in 0 }
        }
        let probePlan = try SurgeryPlan(targets: plan.targets, grouping: plan.grouping, selection: .layerRanks(probeRanks),
                                        centring: plan.centring, basis: plan.basis)
        var probeKL: [Double] = []
        for layer in 0..<layers {
            let alone = try apply(probePlan, onlyLayers: [layer])
            probeKL.append(max(try probe(alone.weights), 0))
            progress(layer + 1, layers)
        }
        // w_l = KL_l / residual_l(p_l); a layer whose probe kept everything gets the largest w seen.
        var weight = (0..<layers).map { l -> Double in
            let residual = 1 - curves[l][probeRanks[l] - 1]
            return residual > 1e-12 ? probeKL[l] / residual : -1
        }
        let largest = weight.max() ?? 1
        weight = weight.map { $0 < 0 ? largest : max($0, 1e-12) }
        var ranks = [Int](repeating: 1, count: layers)
        func gain(_ l: Int) -> Double {
            let r = ranks[l]
            guard r < curves[l].count else { return -.infinity }
            return weight[l] * (curves[l][r] - curves[l][r - 1])
        }
        for _ in 0..<(probeRanks.reduce(0, +) - layers) {
            let best = (0..<layers).max { gain($0) < gain($1) }!
            ranks[best] += 1
        }
        let allocated = try SurgeryPlan(targets: plan.targets, grouping: plan.grouping, selection: .layerRanks(ranks),
                                        centring: plan.centring, basis: plan.basis)
        return KVAllocation(budget: budget, probeRanks: probeRanks, probeKL: probeKL, ranks: ranks, plan: allocated)
    }
}
