// A surgery plan: which projection matrices are replaced, how they are grouped under shared PCA
// bases, how many components are kept, and whether the reconstruction adds the mean back.
// Also the parsing of the strings the command line passes ("q,k,v", "shared-kv", "seed", "0.9,0.5").
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

    /// Parses a comma-separated list such as `"q,k,v"` (spaces allowed). The result is in canonical
    /// order; an unknown or repeated name is an error.
    public static func parseList(_ text: String, argument: String = "--targets") throws(SurgeryError) -> [SurgeryTarget] {
        let names = splitList(text)
        guard !names.isEmpty else { throw .emptyList(argument: argument) }
        var targets: [SurgeryTarget] = []
        for name in names {
            guard let target = SurgeryTarget(rawValue: name.lowercased()) else {
                throw .unknownTarget(name, known: allCases.map(\.rawValue))
            }
            guard !targets.contains(target) else { throw .duplicateTarget(name) }
            targets.append(target)
        }
        return targets.sorted()
    }
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

    public static let names = ["separate", "shared-kv", "shared-kv-layers"]

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

    /// Parses `separate`, `shared-kv`, `shared-kv-layers` or `shared-kv-layers:N`; `layerGroup`
    /// (the `--layer-group` option) sets N for `shared-kv-layers` and is an error with other modes.
    public init(parsing text: String, layerGroup: Int? = nil) throws(SurgeryError) {
        let name = text.trimmingSpaces.lowercased()
        var size = layerGroup
        var base = name
        if let colon = name.firstIndex(of: ":") {
            base = String(name[..<colon])
            let digits = String(name[name.index(after: colon)...])
            guard base == "shared-kv-layers" else { throw .unknownMode(text, known: Self.names) }
            guard let n = Int(digits) else { throw .notANumber(argument: "mode \(base)", found: digits) }
            size = n
        }
        switch base {
        case "separate": self = .separate
        case "shared-kv": self = .sharedKV
        case "shared-kv-layers":
            if let size, size < 1 { throw .layerGroupNotPositive(size) }
            self = .sharedKVLayers(groupSize: size)
            return
        default: throw .unknownMode(text, known: Self.names)
        }
        if layerGroup != nil { throw .layerGroupWithoutLayerMode(mode: base) }
    }

    /// Parses a comma-separated list of modes, e.g. `"separate,shared-kv"`.
    public static func parseList(_ text: String, layerGroup: Int? = nil,
                                 argument: String = "--modes") throws(SurgeryError) -> [Grouping] {
        let names = splitList(text)
        guard !names.isEmpty else { throw .emptyList(argument: argument) }
        var modes: [Grouping] = []
        for name in names {
            // `--layer-group` applies to the layer mode only; the others ignore it in a list.
            let isLayerMode = name.lowercased().hasPrefix("shared-kv-layers")
            let mode = try Grouping(parsing: name, layerGroup: isLayerMode ? layerGroup : nil)
            if !modes.contains(mode) { modes.append(mode) }
        }
        if layerGroup != nil && !modes.contains(where: { if case .sharedKVLayers = $0 { true } else { false } }) {
            throw .layerGroupWithoutLayerMode(mode: text)
        }
        return modes
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

    public init(parsing text: String) throws(SurgeryError) {
        guard let centring = Centring(rawValue: text.trimmingSpaces.lowercased()) else {
            throw .unknownCentring(text, known: Self.allCases.map(\.rawValue))
        }
        self = centring
    }

    public static func parseList(_ text: String, argument: String = "--centrings") throws(SurgeryError) -> [Centring] {
        let names = splitList(text)
        guard !names.isEmpty else { throw .emptyList(argument: argument) }
        var list: [Centring] = []
        for name in names {
            let centring = try Centring(parsing: name)
            if !list.contains(centring) { list.append(centring) }
        }
        return list
    }
}

// MARK: - Selection

/// How many components each group keeps.
public enum Selection: Hashable, Sendable, CustomStringConvertible {
    /// The smallest n whose cumulative explained-variance (or, uncentred, energy) ratio reaches t, 0 < t ≤ 1.
    case variance(Double)
    /// Exactly r components in every group.
    case rank(Int)

    public var description: String {
        switch self {
        case .variance(let t): "variance \(t)"
        case .rank(let r): "rank \(r)"
        }
    }

    /// Checks a threshold or rank; exactly one must be given.
    public init(variance: Double?, rank: Int?) throws(SurgeryError) {
        switch (variance, rank) {
        case (let t?, nil):
            try Self.checkThreshold(t)
            self = .variance(t)
        case (nil, let r?):
            guard r >= 1 else { throw .rankNotPositive(r) }
            self = .rank(r)
        case (let t?, let r?): throw .selectionConflict(variance: t, rank: r)
        case (nil, nil): throw .selectionMissing
        }
    }

    /// The same from the command line's strings (`--variance 0.9`, `--rank 64`).
    public init(parsingVariance variance: String?, rank: String?) throws(SurgeryError) {
        var t: Double?
        var r: Int?
        if let variance {
            guard let value = Double(variance.trimmingSpaces) else { throw .notANumber(argument: "--variance", found: variance) }
            t = value
        }
        if let rank {
            guard let value = Int(rank.trimmingSpaces) else { throw .notANumber(argument: "--rank", found: rank) }
            r = value
        }
        try self.init(variance: t, rank: r)
    }

    static func checkThreshold(_ t: Double) throws(SurgeryError) {
        guard t > 0 && t <= 1 else { throw .thresholdOutOfRange(t) }   // NaN fails both comparisons
    }

    /// Parses a comma-separated list of thresholds such as `"0.99,0.95,0.9"`, each in (0, 1].
    public static func parseThresholds(_ text: String, argument: String = "--variances") throws(SurgeryError) -> [Double] {
        let items = splitList(text)
        guard !items.isEmpty else { throw .emptyList(argument: argument) }
        return try items.map { (item: String) throws(SurgeryError) -> Double in
            guard let t = Double(item) else { throw .notANumber(argument: argument, found: item) }
            try checkThreshold(t)
            return t
        }
    }
}

// MARK: - The plan

/// Everything that decides a surgery, independent of the model it is applied to.
public struct SurgeryPlan: Hashable, Sendable, CustomStringConvertible {
    /// In canonical order (q, k, v, o, gate, up, down), no repeats.
    public let targets: [SurgeryTarget]
    public let grouping: Grouping
    public let selection: Selection
    public let centring: Centring

    /// Checks everything that does not depend on the model; `validate(for:)` checks the rest.
    public init(targets: [SurgeryTarget] = SurgeryTarget.attentionQKV, grouping: Grouping,
                selection: Selection, centring: Centring = .pca) throws(SurgeryError) {
        guard !targets.isEmpty else { throw .emptyList(argument: "targets") }
        var seen: [SurgeryTarget] = []
        for target in targets {
            guard !seen.contains(target) else { throw .duplicateTarget(target.rawValue) }
            seen.append(target)
        }
        switch selection {
        case .variance(let t): try Selection.checkThreshold(t)
        case .rank(let r): guard r >= 1 else { throw .rankNotPositive(r) }
        }
        if case .sharedKVLayers(let n?) = grouping, n < 1 { throw .layerGroupNotPositive(n) }
        if grouping.sharesKV && !(targets.contains(.k) && targets.contains(.v)) {
            throw .sharedKVNeedsKAndV(mode: grouping.description, targets: seen.sorted().map(\.rawValue))
        }
        self.targets = seen.sorted()
        self.grouping = grouping
        self.selection = selection
        self.centring = centring
    }

    /// A plan from the command line's strings: `--targets q,k,v --mode shared-kv [--layer-group N]
    /// (--variance t | --rank r) [--centring pca]`.
    public static func parse(targets: String = "q,k,v", mode: String, layerGroup: Int? = nil,
                             variance: String?, rank: String?, centring: String = "pca") throws(SurgeryError) -> SurgeryPlan {
        try SurgeryPlan(targets: SurgeryTarget.parseList(targets),
                        grouping: Grouping(parsing: mode, layerGroup: layerGroup),
                        selection: Selection(parsingVariance: variance, rank: rank),
                        centring: Centring(parsing: centring))
    }

    /// `q,k,v · shared-kv · variance 0.9 · centring pca`
    public var description: String {
        "\(targets.map(\.rawValue).joined(separator: ",")) · \(grouping) · \(selection) · centring \(centring)"
    }

    /// Checks the plan against a model: every targeted tensor is a non-empty matrix, the layer group
    /// fits the model, and a rank is no larger than any group allows.
    public func validate(for weights: Weights) throws(SurgeryError) {
        _ = try groups(for: weights)
    }
}

// MARK: - String helpers

/// `"a, b,c"` → `["a", "b", "c"]`; a blank text is the empty list. An empty item (`"a,,b"`) is kept,
/// so that the caller rejects it by name instead of skipping it silently.
func splitList(_ text: String) -> [String] {
    if text.trimmingSpaces.isEmpty { return [] }
    return text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s = s.dropFirst() }
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
