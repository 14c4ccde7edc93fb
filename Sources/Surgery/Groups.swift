// How a plan's targets become groups of matrices under one PCA basis, and how a group's matrices
// become the sample matrix X (samples × features) that is decomposed — and how X̂ splits back.
//
// Orientation (the study's rule, `apply_pca_to_matrix`): a single weight W of PyTorch shape
// (out, in) gives X = W when out ≤ in (its rows — one per output unit — are the samples, the
// features are the inputs) and X = Wᵀ otherwise. A stack is always rows-as-samples:
// X = [W₁; W₂; …] of shape (Σ outᵢ, in). Only then can each member be projected on the shared
// basis by itself, and the basis lives in the input space — the residual stream — that every
// layer's K and V read: X̂ᵢ = Zᵢ Cₙ means K x ≈ Z_K (Cₙ x), one shared n-dimensional latent
// Cₙ x per token, DeepSeek's W_kv idea. (Transposed, the features would be the concatenated
// outputs of K and V, which no single member has; across layers they would be unrelated head spaces.)
import Tensor
import Llama

// MARK: - Matrices and groups

/// One projection matrix of the model: a target in a layer.
public struct MatrixID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let layer: Int
    public let target: SurgeryTarget

    public init(layer: Int, target: SurgeryTarget) {
        self.layer = layer
        self.target = target
    }

    /// The canonical (Hugging Face) tensor name, e.g. `model.layers.3.self_attn.k_proj.weight`.
    public var name: String { target.tensor.name(layer: layer) }
    public var description: String { "layer \(layer) \(target)" }

    public static func < (a: MatrixID, b: MatrixID) -> Bool {
        a.layer != b.layer ? a.layer < b.layer : a.target < b.target
    }
}

/// Which axis of the PyTorch (out, in) weight holds the PCA samples.
public enum Orientation: String, Hashable, Sendable, Codable {
    /// X = W: one sample per output row, features = inputs.
    case rows
    /// X = Wᵀ: one sample per input column, features = outputs (a single matrix with out > in).
    case columns
}

/// Matrices decomposed together, under one basis.
package struct MatrixGroup: Hashable, Sendable {
    /// In stacking order (k before v, earlier layers first).
    package let members: [MatrixID]
    /// Each member's PyTorch shape (out, in).
    let shapes: [[Int]]
    package let orientation: Orientation

    /// Rows of X.
    package var sampleCount: Int {
        orientation == .rows ? shapes.reduce(0) { $0 + $1[0] } : shapes[0][1]
    }
    /// Columns of X.
    package var featureCount: Int { orientation == .rows ? shapes[0][1] : shapes[0][0] }
    /// The most components a PCA of X has: min(samples, features), as scikit-learn allows.
    var maxComponents: Int { min(sampleCount, featureCount) }

    /// The samples (rows of X) that member `index` contributes.
    func sampleRange(ofMember index: Int) -> Range<Int> {
        guard orientation == .rows else { return 0..<sampleCount }
        let start = shapes[..<index].reduce(0) { $0 + $1[0] }
        return start..<(start + shapes[index][0])
    }

    /// `layer 3 q`, `layer 3 k+v`, `layers 0–5 k+v`.
    package var label: String {
        let layers = Set(members.map(\.layer)).sorted()
        let targets = members.map(\.target).reduce(into: [SurgeryTarget]()) { if !$0.contains($1) { $0.append($1) } }
        let which = targets.map(\.rawValue).joined(separator: "+")
        if layers.count == 1 { return "layer \(layers[0]) \(which)" }
        return "layers \(layers.first!)–\(layers.last!) \(which)"
    }
}

// MARK: - Plan → groups

extension SurgeryPlan {
    /// The groups this plan decomposes in `weights`, layer by layer. Checks that every targeted
    /// tensor is a non-empty matrix, that stacked matrices share their input size, that the layer
    /// group fits the model and that a rank fits every group.
    package func groups(for weights: Weights) throws(SurgeryError) -> [MatrixGroup] {
        let layerCount = weights.layers.count
        guard layerCount > 0 else { throw .noLayers }
        if case .sharedKVLayers(let n?) = grouping, n > layerCount {
            throw .layerGroupTooLarge(groupSize: n, layers: layerCount)
        }
        func shape(_ id: MatrixID) throws(SurgeryError) -> [Int] {
            let shape = weights.layers[id.layer][id.target.tensor].shape
            guard shape.count == 2, shape[0] > 0, shape[1] > 0 else { throw .missingTensor(name: id.name, shape: shape) }
            return shape
        }
        func stack(_ members: [MatrixID]) throws(SurgeryError) -> MatrixGroup {
            var shapes: [[Int]] = []
            for id in members { shapes.append(try shape(id)) }
            let group = MatrixGroup(members: members, shapes: shapes, orientation: .rows)
            guard Set(shapes.map { $0[1] }).count == 1 else {
                throw .incompatibleStack(group: group.label, columns: shapes.map { $0[1] })
            }
            return group
        }

        var groups: [MatrixGroup] = []
        for layer in 0..<layerCount {
            for target in targets {
                let id = MatrixID(layer: layer, target: target)
                switch (grouping, target) {
                case (.sharedKV, .k):
                    groups.append(try stack([id, MatrixID(layer: layer, target: .v)]))
                case (.sharedKVLayers(let size), .k):
                    let size = size ?? layerCount
                    guard layer % size == 0 else { continue }           // the run's first layer adds it
                    let run = layer..<min(layer + size, layerCount)
                    groups.append(try stack(run.flatMap { [MatrixID(layer: $0, target: .k), MatrixID(layer: $0, target: .v)] }))
                case (.sharedKV, .v), (.sharedKVLayers, .v):
                    continue                                            // stacked with k
                default:
                    let s = try shape(id)
                    groups.append(MatrixGroup(members: [id], shapes: [s], orientation: s[0] <= s[1] ? .rows : .columns))
                }
            }
        }
        if case .rank(let r) = selection, let small = groups.first(where: { $0.maxComponents < r }) {
            throw .rankTooLarge(rank: r, limit: small.maxComponents, matrix: small.label)
        }
        if case .layerRanks(let ranks) = selection {
            guard ranks.count == layerCount else { throw .layerRanksCount(found: ranks.count, layers: layerCount) }
            for group in groups {
                let r = ranks[group.members[0].layer]
                if r > group.maxComponents { throw .rankTooLarge(rank: r, limit: group.maxComponents, matrix: group.label) }
            }
        }
        return groups
    }
}

// MARK: - Matrices ↔ samples

extension MatrixGroup {
    /// X (samples × features): the members stacked (rows) or the single member transposed (columns).
    package func samples(in weights: Weights) -> Tensor {
        if orientation == .columns {
            return weights.layers[members[0].layer][members[0].target.tensor].transposed()   // (in, out)
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(sampleCount * featureCount)
        for id in members { scalars += weights.layers[id.layer][id.target.tensor].scalars }
        return Tensor(shape: [sampleCount, featureCount], scalars: scalars)     // (Σ outᵢ, in)
    }

    /// Splits a reconstruction X̂ (samples × features) back into the members' (out, in) matrices.
    func split(_ reconstruction: Tensor) -> [Tensor] {
        if orientation == .columns { return [reconstruction.transposed()] }
        return members.indices.map { index in
            let rows = sampleRange(ofMember: index)
            let f = featureCount
            return Tensor(shape: shapes[index], scalars: Array(reconstruction.scalars[(rows.lowerBound * f)..<(rows.upperBound * f)]))
        }
    }
}
