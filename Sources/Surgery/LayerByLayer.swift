// A plan applied one layer at a time, when asked: so that `compress` holds one layer's fits and
// replaced matrices, never the whole surgered model. The writer asks for a layer when it reaches
// that layer's tensors (each layer's are written together), and the layer is forgotten when the
// next one is asked for.
import Tensor
import Llama

/// Made by `Surgeon.layerByLayer`. `matrices(layer:)` fits that layer's groups, reconstructs its
/// matrices, keeps each as `keep` makes it (rounded to the output dtype, say), and forgets the fits
/// at once. Not thread-safe, like its surgeon.
public final class LayerByLayerSurgery {
    public let plan: SurgeryPlan
    /// Per layer, the tensors the plan replaces (empty for an untouched layer).
    public let replaced: [[LayerTensor]]
    private let surgeon: Surgeon
    private let groupsPerLayer: [Int]
    private let keep: (Tensor) -> WeightMatrix
    private let progress: (SurgeryProgress) -> Void
    private var made: [Int: (statistics: [MatrixStatistics], latent: LatentKV?)] = [:]
    private var last: (layer: Int, matrices: [LayerTensor: WeightMatrix])?

    init(surgeon: Surgeon, plan: SurgeryPlan, groups: [MatrixGroup], keep: @escaping (Tensor) -> WeightMatrix,
         progress: @escaping (SurgeryProgress) -> Void) {
        let layers = surgeon.base.layers.count
        var replaced = [[LayerTensor]](repeating: [], count: layers)
        var groupsPerLayer = [Int](repeating: 0, count: layers)
        for group in groups {
            groupsPerLayer[group.members[0].layer] += 1
            for id in group.members { replaced[id.layer].append(id.target.tensor) }
        }
        self.plan = plan
        self.replaced = replaced
        self.surgeon = surgeon
        self.groupsPerLayer = groupsPerLayer
        self.keep = keep
        self.progress = progress
    }

    /// Layer `layer`'s replaced matrices. The last layer asked for is held, so asking again is free;
    /// any other layer is made again (the same values: the fits are deterministic).
    public func matrices(layer: Int) throws(SurgeryError) -> [LayerTensor: WeightMatrix] {
        if let last, last.layer == layer { return last.matrices }
        last = nil
        let done = made.keys.reduce(0) { $0 + ($1 == layer ? 0 : groupsPerLayer[$1]) }
        let total = groupsPerLayer.reduce(0, +)
        let part = try surgeon.apply(plan, onlyLayers: [layer]) { p in
            self.progress(SurgeryProgress(done: done + p.done, total: total, item: p.item))
        }
        surgeon.forgetFits(layer: layer)
        var matrices: [LayerTensor: WeightMatrix] = [:]
        for s in part.statistics { matrices[s.matrix.target.tensor] = keep(part.weights.layers[layer][s.matrix.target.tensor]) }
        made[layer] = (statistics: part.statistics, latent: part.latentKV[layer])
        last = (layer, matrices)
        return matrices
    }

    /// The statistics of the layers made so far, by layer then target.
    public var statistics: [MatrixStatistics] {
        made.keys.sorted().flatMap { made[$0]!.statistics }
    }

    /// Per layer, the K/V factors of the layers made so far when the plan made K and V share a basis.
    public var latentKV: [LatentKV?] {
        replaced.indices.map { made[$0]?.latent ?? nil }
    }

    public var summary: SurgerySummary { SurgerySummary(statistics: statistics) }
}
