// The one error type of the Surgery module: every way a plan, its arguments or the model it is
// applied to can be wrong, each case carrying what was found and what was expected.

/// Why a surgery plan, sweep or report refused its input.
public enum SurgeryError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: Plan arguments
    /// A variance threshold outside (0, 1] (or not a number).
    case thresholdOutOfRange(Double)
    /// A plan with no targets, or a sweep with no points.
    case noTargets
    case noSweepPoints
    /// A rank below 1.
    case rankNotPositive(Int)
    /// A rank larger than a targeted matrix (or group) allows: `limit` = min(samples, features).
    case rankTooLarge(rank: Int, limit: Int, matrix: String)
    /// A layer group size below 1, or larger than the model.
    case layerGroupNotPositive(Int)
    case layerGroupTooLarge(groupSize: Int, layers: Int)
    /// A shared K/V mode with only one of k and v among the targets.
    case sharedKVNeedsKAndV(mode: String, targets: [String])

    /// A target listed twice.
    case duplicateTarget(String)
    /// A KV-cache budget outside (0, 1].
    case budgetOutOfRange(Double)
    /// A budget (or per-layer ranks) with a target that is not in the KV cache.
    case budgetCoversKV(String)
    /// A budget allocation asked of a plan without a budget, or without one K/V basis per layer.
    case allocationNeedsBudget
    case allocationNeedsSharedKV(mode: String)
    /// Per-layer ranks for a model with another number of layers.
    case layerRanksCount(found: Int, layers: Int)

    // MARK: The activation basis
    /// A centring other than `none` with the activation basis (its fit is uncentred).
    case centringWithActivations(String)
    /// A target the attention-input statistics do not cover (o, gate, up, down).
    case activationsOutsideAttentionInput(String)
    /// The activation basis with a basis shared across layers.
    case activationsAcrossLayers
    /// K/V balance without a shared K/V basis.
    case balanceNeedsSharedKV(mode: String)
    /// An activation-basis plan on a surgeon without calibration statistics, or with statistics of another model.
    case needsCalibration
    case calibrationMismatch(layers: Int, width: Int, modelLayers: Int, modelWidth: Int)

    // MARK: The model
    /// The weights have no decoder layers.
    case noLayers
    /// A targeted tensor that is not a non-empty matrix (e.g. a placeholder of shape [0]).
    case missingTensor(name: String, shape: [Int])
    /// Matrices stacked into one group whose input sizes differ.
    case incompatibleStack(group: String, columns: [Int])
    /// The linear algebra refused a matrix (non-finite values, no convergence, …).
    case decompositionFailed(group: String, reason: String)

    // MARK: Reports
    /// An output that could not be written.
    case cannotWrite(path: String, reason: String)
    /// A sweep.json to resume from that is missing, unreadable or not in the shape `SweepReport` writes.
    case unreadableSweep(path: String, reason: String)

    public var description: String {
        switch self {
        case .thresholdOutOfRange(let t):
            "variance threshold \(t) is outside (0, 1]"
        case .noTargets:
            "a surgery needs at least one target matrix"
        case .noSweepPoints:
            "a sweep needs at least one point"
        case .rankNotPositive(let r):
            "rank \(r) is not a positive integer"
        case .rankTooLarge(let rank, let limit, let matrix):
            "rank \(rank) is larger than \(matrix) allows (at most \(limit) components: min(samples, features))"
        case .layerGroupNotPositive(let n):
            "layer group size \(n) is not a positive integer"
        case .layerGroupTooLarge(let n, let layers):
            "layer group size \(n) is larger than the model's \(layers) layers (leave it out to share one basis across all layers)"
        case .sharedKVNeedsKAndV(let mode, let targets):
            "mode \(mode) shares one basis between k and v, but the targets are \(targets.joined(separator: ",")) (add both k and v)"
        case .duplicateTarget(let name):
            "target \"\(name)\" is listed twice"
        case .budgetOutOfRange(let f):
            "KV-cache budget \(f) is outside (0, 1]"
        case .budgetCoversKV(let target):
            "a KV-cache budget sets the ranks of k and v; \(target) is not in the KV cache (target k,v only, or use a rank or a threshold)"
        case .allocationNeedsBudget:
            "a rank allocation needs a KV-cache budget"
        case .allocationNeedsSharedKV(let mode):
            "the rank allocation gives each layer's shared K/V basis its rank; mode \(mode) has none (use shared-kv, or uniform ranks)"
        case .layerRanksCount(let found, let layers):
            "\(found) per-layer ranks for a model with \(layers) layers"
        case .centringWithActivations(let centring):
            "centring \(centring) has no meaning for the activation basis: it decomposes the outputs' second moment, uncentred (leave the centring out, or use none)"
        case .activationsOutsideAttentionInput(let target):
            "the activation basis covers q, k and v (the matrices that read the attention input); \(target) reads another input"
        case .activationsAcrossLayers:
            "the activation basis has no basis shared across layers: each layer's K and V read their own inputs, so one basis would not minimise any layer's output error (use shared-kv or separate)"
        case .balanceNeedsSharedKV(let mode):
            "K/V balance scales K against V within one shared basis; mode \(mode) has none (use shared-kv)"
        case .needsCalibration:
            "the activation basis needs calibration statistics"
        case .calibrationMismatch(let layers, let width, let modelLayers, let modelWidth):
            "the calibration statistics are for \(layers) layers of width \(width), the model has \(modelLayers) of width \(modelWidth)"
        case .noLayers:
            "the model has no decoder layers to operate on"
        case .missingTensor(let name, let shape):
            "the model has no matrix \(name) (found shape \(shape))"
        case .incompatibleStack(let group, let columns):
            "cannot stack \(group): input sizes differ \(columns)"
        case .decompositionFailed(let group, let reason):
            "decomposition of \(group) failed: \(reason)"
        case .cannotWrite(let path, let reason):
            "\(path): cannot write: \(reason)"
        case .unreadableSweep(let path, let reason):
            "\(path): cannot resume from it: \(reason)"
        }
    }
}
