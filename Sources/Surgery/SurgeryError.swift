// The one error type of the Surgery module: every way a plan, its arguments or the model it is
// applied to can be wrong, each case carrying what was found and what was expected.

/// Why a surgery plan, sweep or report refused its input.
public enum SurgeryError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: Plan arguments
    /// A variance threshold outside (0, 1] (or not a number).
    case thresholdOutOfRange(Double)
    /// A rank below 1.
    case rankNotPositive(Int)
    /// A rank larger than a targeted matrix (or group) allows: `limit` = min(samples, features).
    case rankTooLarge(rank: Int, limit: Int, matrix: String)
    /// Neither `--variance` nor `--rank`, or both.
    case selectionMissing
    case selectionConflict(variance: Double, rank: Int)
    /// `--layer-group` below 1, larger than the model, or given with a mode that does not use it.
    case layerGroupNotPositive(Int)
    case layerGroupTooLarge(groupSize: Int, layers: Int)
    case layerGroupWithoutLayerMode(mode: String)
    /// A shared K/V mode with only one of k and v among the targets.
    case sharedKVNeedsKAndV(mode: String, targets: [String])

    // MARK: Names parsed from strings
    case unknownTarget(String, known: [String])
    case duplicateTarget(String)
    case emptyList(argument: String)
    case unknownMode(String, known: [String])
    case unknownCentring(String, known: [String])
    /// A list item that is not a number, e.g. `--variances 0.9,abc`.
    case notANumber(argument: String, found: String)

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

    public var description: String {
        switch self {
        case .thresholdOutOfRange(let t):
            "variance threshold \(t) is outside (0, 1]"
        case .rankNotPositive(let r):
            "rank \(r) is not a positive integer"
        case .rankTooLarge(let rank, let limit, let matrix):
            "rank \(rank) is larger than \(matrix) allows (at most \(limit) components: min(samples, features))"
        case .selectionMissing:
            "give a variance threshold (--variance t, 0 < t ≤ 1) or a rank (--rank r)"
        case .selectionConflict(let variance, let rank):
            "give either a variance threshold or a rank, not both (found variance \(variance) and rank \(rank))"
        case .layerGroupNotPositive(let n):
            "layer group size \(n) is not a positive integer"
        case .layerGroupTooLarge(let n, let layers):
            "layer group size \(n) is larger than the model's \(layers) layers (leave it out to share one basis across all layers)"
        case .layerGroupWithoutLayerMode(let mode):
            "a layer group size only applies to mode shared-kv-layers, not \(mode)"
        case .sharedKVNeedsKAndV(let mode, let targets):
            "mode \(mode) shares one basis between k and v, but the targets are \(targets.joined(separator: ",")) (add both k and v)"
        case .unknownTarget(let name, let known):
            "unknown target \"\(name)\" (expected any of \(known.joined(separator: ", ")))"
        case .duplicateTarget(let name):
            "target \"\(name)\" is listed twice"
        case .emptyList(let argument):
            "\(argument) is empty"
        case .unknownMode(let name, let known):
            "unknown mode \"\(name)\" (expected one of \(known.joined(separator: ", ")))"
        case .unknownCentring(let name, let known):
            "unknown centring \"\(name)\" (expected one of \(known.joined(separator: ", ")))"
        case .notANumber(let argument, let found):
            "\(argument): \"\(found)\" is not a number"
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
        }
    }
}
