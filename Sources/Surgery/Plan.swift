// A surgery plan: which projection matrices are replaced, how they are grouped under shared PCA
// bases, how many components are kept, and whether the reconstruction adds the mean back.
// Typed values only: the command line parses its strings and builds these.
// Source of the modes: the original study, github.com/edwinhere/surgery (branches `pca`, `shared_kv_pca`).
import Llama

// MARK: - Targets

/// A projection matrix of a decoder layer that surgery can replace.
public enum SurgeryTarget: String, CaseIterable, Sendable, Comparable, Codable {
    case q, k, v, o, gate, up, down

    /// The layer tensor it names (`q` → `self_attn.q_proj.weight`).
    public var tensor: LayerTensor {
        switch self {
        case .q: .q
        case .k: .k
        case .v: .v
        case .o: .o
        case .gate: .gate
        case .up: .up
        case .down: .down
        }
    }

    /// Canonical order: attention q, k, v, o, then the MLP's gate, up, down.
    public static func < (a: SurgeryTarget, b: SurgeryTarget) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The study's targets.
    public static let attentionQKV: [SurgeryTarget] = [.q, .k, .v]
}

// MARK: - Grouping

/// Which matrices share one PCA basis.
public enum Grouping: Hashable, Sendable, CustomStringConvertible {
    /// Every matrix its own PCA (the study's `pca` branch).
    case separate
    /// q (and any other target) alone; k and v of a layer stacked `[K; V]` → (2·out, in) under one
    /// basis (the study's `shared_kv_pca` branch, its main result).
    case sharedKV
    /// One K/V basis for each run of `groupSize` consecutive layers (the last run may be shorter),
    /// or for all layers when `groupSize` is nil (the study's proposed next step).
    case sharedKVLayers(groupSize: Int?)

    /// The name used on the command line and in reports: `separate`, `shared-kv`,
    /// `shared-kv-layers` (all layers) or `shared-kv-layers:6`.
    public var description: String {
        switch self {
        case .separate: "separate"
        case .sharedKV: "shared-kv"
        case .sharedKVLayers(nil): "shared-kv-layers"
        case .sharedKVLayers(let n?): "shared-kv-layers:\(n)"
        }
    }

    /// Whether k and v share a basis (so both must be targeted).
    public var sharesKV: Bool {
        if case .separate = self { return false }
        return true
    }

}

// MARK: - Centring

/// How the reconstruction treats the mean of the samples.
public enum Centring: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// True PCA: fit on centred samples, reconstruct `Z[:, :n] C[:n] + μ`. 100% variance is the identity.
    case pca
    /// The study's code exactly: `transform(W)[:, :n] @ components[:n]`, i.e. `(W − μ) Cₙᵀ Cₙ`,
    /// the mean never added back.
    case seed
    /// No centring: truncated SVD `X Vₙ Vₙᵀ`, the threshold on singular-value energy Σσᵢ² .
    case none

    public var description: String { rawValue }

    /// Whether the decomposition is of the centred samples (pca, seed) or of the samples as they are.
    var isCentred: Bool { self != .none }

}

// MARK: - Basis

/// What the components are components of.
public enum Basis: Hashable, Sendable, CustomStringConvertible {
    /// PCA of the weight rows: the study's method.
    case weights
    /// PCA of what the matrices compute on calibration inputs (the outputs' second moment,
    /// uncentred); `balanced` scales K to V's output energy first. See `ActivationBasis.swift`.
    case activations(balanced: Bool)

    public var description: String {
        switch self {
        case .weights: "weights"
        case .activations(false): "activations"
        case .activations(true): "activations, K/V balanced"
        }
    }

    public var usesCalibration: Bool { self != .weights }
}

// MARK: - Selection

/// How many components each group keeps.
public enum Selection: Hashable, Sendable, CustomStringConvertible {
    /// The smallest n whose cumulative explained-variance (or, uncentred, energy) ratio reaches t, 0 < t ≤ 1.
    case variance(Double)
    /// Exactly r components in every group.
    case rank(Int)
    /// A fraction F of the KV cache, uniform: each k/v group keeps round(F · its rows) components
    /// (at least 1), so Σ_l r_l / Σ_l (rows of k_l and v_l) ≈ F.
    case kvBudget(Double)
    /// One rank per layer for every group of that layer (what a budget allocation hands out).
    case layerRanks([Int])

    public var description: String {
        switch self {
        case .variance(let t): "variance \(t)"
        case .rank(let r): "rank \(r)"
        case .kvBudget(let f): "KV budget \(f)"
        case .layerRanks(let ranks):
            "ranks per layer (mean \(fixed(Double(ranks.reduce(0, +)) / Double(max(ranks.count, 1)), 1)), min \(ranks.min() ?? 0), max \(ranks.max() ?? 0))"
        }
    }

    /// The components one group keeps under this selection: `layer` is the group's first layer,
    /// `rows` its sample count, `limit` the most it has, `count(t)` the threshold rule of its fit.
    func components(layer: Int, rows: Int, limit: Int, count: (Double) -> Int) -> Int {
        switch self {
        case .variance(let t): min(count(t), limit)
        case .rank(let r): min(r, limit)
        case .kvBudget(let f): min(max(1, Int((f * Double(rows)).rounded())), limit)
        case .layerRanks(let ranks): min(ranks[layer], limit)
        }
    }

    static func checkThreshold(_ t: Double) throws(SurgeryError) {
        guard t > 0 && t <= 1 else { throw .thresholdOutOfRange(t) }   // NaN fails both comparisons
    }

    /// The study's default threshold: components explaining 90% of the variance.
    public static let studyVariance = 0.90
    /// The thresholds a sweep and a spectrum table use unless told otherwise.
    public static let studyThresholds = [0.99, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3, 0.1]
}

// MARK: - The plan

/// Everything that decides a surgery, independent of the model it is applied to.
public struct SurgeryPlan: Hashable, Sendable, CustomStringConvertible {
    /// In canonical order (q, k, v, o, gate, up, down), no repeats.
    public let targets: [SurgeryTarget]
    public let grouping: Grouping
    public let selection: Selection
    public let centring: Centring
    public let basis: Basis

    /// Checks everything that does not depend on the model; `validate(for:)` checks the rest.
    /// The activation basis is uncentred (centring `none`), reads the attention input (targets
    /// among q, k, v) and has no basis across layers (each layer's K and V see their own inputs).
    public init(targets: [SurgeryTarget] = SurgeryTarget.attentionQKV, grouping: Grouping,
                selection: Selection, centring: Centring = .pca, basis: Basis = .weights) throws(SurgeryError) {
        guard !targets.isEmpty else { throw .noTargets }
        var seen: [SurgeryTarget] = []
        for target in targets {
            guard !seen.contains(target) else { throw .duplicateTarget(target.rawValue) }
            seen.append(target)
        }
        switch selection {
        case .variance(let t): try Selection.checkThreshold(t)
        case .rank(let r): guard r >= 1 else { throw .rankNotPositive(r) }
        case .kvBudget(let f): guard f > 0 && f <= 1 else { throw .budgetOutOfRange(f) }
        case .layerRanks(let ranks): if let r = ranks.first(where: { $0 < 1 }) { throw .rankNotPositive(r) }
        }
        switch selection {
        case .kvBudget, .layerRanks:
            if let other = seen.first(where: { $0 != .k && $0 != .v }) { throw .budgetCoversKV(other.rawValue) }
        default: break
        }
        if case .sharedKVLayers(let n?) = grouping, n < 1 { throw .layerGroupNotPositive(n) }
        if grouping.sharesKV && !(targets.contains(.k) && targets.contains(.v)) {
            throw .sharedKVNeedsKAndV(mode: grouping.description, targets: seen.sorted().map(\.rawValue))
        }
        if case .activations(let balanced) = basis {
            guard centring == .none else { throw .centringWithActivations(centring.rawValue) }
            if let other = seen.first(where: { !SurgeryTarget.attentionQKV.contains($0) }) {
                throw .activationsOutsideAttentionInput(other.rawValue)
            }
            if case .sharedKVLayers = grouping { throw .activationsAcrossLayers }
            if balanced && !grouping.sharesKV { throw .balanceNeedsSharedKV(mode: grouping.description) }
        }
        self.targets = seen.sorted()
        self.grouping = grouping
        self.selection = selection
        self.centring = centring
        self.basis = basis
    }

    /// `q,k,v · shared-kv · variance 0.9 · centring pca` (and `· basis activations` when not the weights).
    public var description: String {
        let core = "\(targets.map(\.rawValue).joined(separator: ",")) · \(grouping) · \(selection)"
        return basis == .weights ? core + " · centring \(centring)" : core + " · basis \(basis)"
    }

    /// Checks the plan against a model: every targeted tensor is a non-empty matrix, the layer group
    /// fits the model, and a rank is no larger than any group allows.
    public func validate(for weights: Weights) throws(SurgeryError) {
        _ = try groups(for: weights)
    }
}
