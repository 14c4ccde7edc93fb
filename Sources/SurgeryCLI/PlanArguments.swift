// The surgery options as typed values: the strings of `--targets`, `--mode`, `--layer-group`,
// `--centring`, `--variance`/`--rank` and their list forms (`--modes`, `--centrings`, `--variances`)
// become Surgery's `SurgeryTarget`, `Grouping`, `Centring` and `Selection`; every malformed value is
// a `UsageError` naming its flag. The library sees no strings.
import Surgery

/// `--targets q,k,v --mode shared-kv [--layer-group N] (--variance t | --rank r) [--centring pca]
/// [--basis weights|activations [--kv-balance]]`. The activation basis is uncentred: without
/// `--centring` it gets `none`.
func surgeryPlan(_ arguments: inout Arguments) throws -> SurgeryPlan {
    let targets = try targetList(&arguments, "targets")
    let layerGroup = try arguments.optionalInt("layer-group", in: 1...Int.max)
    let grouping = try parseGrouping(arguments.string("mode") ?? "shared-kv", flag: "--mode")
    let selection = try parseSelection(&arguments)
    let basis = try parseBasis(arguments.string("basis") ?? "weights", balanced: arguments.flag("kv-balance"), flag: "--basis")
    let centring = try parseCentring(arguments.string("centring") ?? (basis == .weights ? Centring.pca : .none).rawValue,
                                     flag: "--centring")
    return try SurgeryPlan(targets: targets, grouping: applying(layerGroup, to: [grouping], flag: "--mode")[0],
                           selection: selection, centring: centring, basis: basis)
}

/// `weights` or `activations`; `--kv-balance` needs `activations`.
func parseBasis(_ text: String, balanced: Bool, flag: String) throws -> Basis {
    switch text.trimmed.lowercased() {
    case "weights":
        if balanced { throw UsageError("--kv-balance needs --basis activations (it balances K and V output energy)") }
        return .weights
    case "activations": return .activations(balanced: balanced)
    default: throw UsageError("\(flag): unknown basis \"\(text)\" (expected weights or activations)")
    }
}

/// `--variance t`, `--rank r` or `--kv-budget F`, one of them; none is the study's default
/// threshold. A number outside (0, 1] is the plan's error (it names the threshold or budget).
func parseSelection(_ arguments: inout Arguments) throws -> Selection {
    var given: [(String, Selection)] = []
    if let t = try arguments.optionalNumber("variance") { given.append(("--variance \(t)", .variance(t))) }
    if let r = try arguments.optionalInt("rank", in: 1...Int.max) { given.append(("--rank \(r)", .rank(r))) }
    if let f = try arguments.optionalNumber("kv-budget") { given.append(("--kv-budget \(f)", .kvBudget(f))) }
    guard given.count <= 1 else {
        throw UsageError("give one of --variance, --rank and --kv-budget (found \(given.map(\.0).joined(separator: " and ")))")
    }
    return given.first?.1 ?? .variance(Selection.studyVariance)
}

// MARK: - Lists

/// `--targets LIST` (default q,k,v): canonical order; an unknown, empty or repeated name is an error.
func targetList(_ arguments: inout Arguments, _ name: String) throws -> [SurgeryTarget] {
    let items = try nonEmptyList(&arguments, name) ?? SurgeryTarget.attentionQKV.map(\.rawValue)
    var targets: [SurgeryTarget] = []
    for item in items {
        guard let target = SurgeryTarget(rawValue: item.lowercased()) else {
            throw UsageError("--\(name): unknown target \"\(item)\" (expected any of \(SurgeryTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard !targets.contains(target) else { throw UsageError("--\(name): target \"\(item)\" is listed twice") }
        targets.append(target)
    }
    return targets.sorted()
}

/// `--modes LIST` with `--layer-group N` (which needs a shared-kv-layers mode among them).
func groupingList(_ arguments: inout Arguments, default defaults: [Grouping]) throws -> [Grouping] {
    let layerGroup = try arguments.optionalInt("layer-group", in: 1...Int.max)
    var modes: [Grouping] = []
    for item in try nonEmptyList(&arguments, "modes") ?? defaults.map(\.description) {
        let mode = try parseGrouping(item, flag: "--modes")
        if !modes.contains(mode) { modes.append(mode) }
    }
    return try applying(layerGroup, to: modes, flag: "--modes")
}

/// `--centrings LIST`, repeats dropped.
func centringList(_ arguments: inout Arguments, default defaults: [Centring]) throws -> [Centring] {
    var list: [Centring] = []
    for item in try nonEmptyList(&arguments, "centrings") ?? defaults.map(\.rawValue) {
        let centring = try parseCentring(item, flag: "--centrings")
        if !list.contains(centring) { list.append(centring) }
    }
    return list
}

/// `--variances LIST`, each a number (the sweep's plans check that each is in (0, 1]).
func thresholdList(_ arguments: inout Arguments, default defaults: [Double]) throws -> [Double] {
    guard let items = try nonEmptyList(&arguments, "variances") else { return defaults }
    return try items.map { try Arguments.parseNumber($0, name: "variances") }
}

/// `--variances LIST`, `--ranks LIST`, `--kv-budgets LIST`: the points' selections, in that order;
/// with none of them, the study's thresholds.
func sweepSelections(_ arguments: inout Arguments) throws -> [Selection] {
    let ranks = try nonEmptyList(&arguments, "ranks")?.map { item -> Selection in
        guard let r = Int(item), r >= 1 else { throw UsageError("--ranks: \"\(item)\" is not a positive integer") }
        return .rank(r)
    } ?? []
    let budgets = try nonEmptyList(&arguments, "kv-budgets")?.map { Selection.kvBudget(try Arguments.parseNumber($0, name: "kv-budgets")) } ?? []
    let thresholds = try thresholdList(&arguments, default: ranks.isEmpty && budgets.isEmpty ? Selection.studyThresholds : [])
    return thresholds.map { .variance($0) } + ranks + budgets
}

/// `--bases LIST`: any of weights, activations, activations-balanced (default weights).
func basisList(_ arguments: inout Arguments) throws -> [Basis] {
    var bases: [Basis] = []
    for item in try nonEmptyList(&arguments, "bases") ?? ["weights"] {
        let basis: Basis
        switch item.lowercased() {
        case "weights": basis = .weights
        case "activations": basis = .activations(balanced: false)
        case "activations-balanced": basis = .activations(balanced: true)
        default: throw UsageError("--bases: unknown basis \"\(item)\" (expected any of weights, activations, activations-balanced)")
        }
        if !bases.contains(basis) { bases.append(basis) }
    }
    return bases
}

// MARK: - Single values

/// `separate`, `shared-kv`, `shared-kv-layers` or `shared-kv-layers:N`.
func parseGrouping(_ text: String, flag: String) throws -> Grouping {
    let name = text.trimmed.lowercased()
    let known = "separate, shared-kv, shared-kv-layers"
    if let colon = name.firstIndex(of: ":") {
        let base = name[..<colon], digits = name[name.index(after: colon)...]
        guard base == "shared-kv-layers" else { throw UsageError("\(flag): unknown mode \"\(text)\" (expected one of \(known))") }
        guard let n = Int(digits), n >= 1 else {
            throw UsageError("\(flag): the layer group of \"\(text)\" must be a positive integer")
        }
        return .sharedKVLayers(groupSize: n)
    }
    switch name {
    case "separate": return .separate
    case "shared-kv": return .sharedKV
    case "shared-kv-layers": return .sharedKVLayers(groupSize: nil)
    default: throw UsageError("\(flag): unknown mode \"\(text)\" (expected one of \(known))")
    }
}

func parseCentring(_ text: String, flag: String) throws -> Centring {
    guard let centring = Centring(rawValue: text.trimmed.lowercased()) else {
        throw UsageError("\(flag): unknown centring \"\(text)\" (expected one of \(Centring.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return centring
}

// MARK: - Helpers

/// `--layer-group N` sets the group size of the shared-kv-layers modes, and is an error without one.
private func applying(_ layerGroup: Int?, to modes: [Grouping], flag: String) throws -> [Grouping] {
    guard let layerGroup else { return modes }
    guard modes.contains(where: { if case .sharedKVLayers = $0 { true } else { false } }) else {
        throw UsageError("--layer-group only applies to mode shared-kv-layers, not \(modes.map(\.description).joined(separator: ","))")
    }
    return modes.map { if case .sharedKVLayers(nil) = $0 { .sharedKVLayers(groupSize: layerGroup) } else { $0 } }
}

/// A comma-separated list, nil when the flag is absent; a blank list is an error naming the flag.
private func nonEmptyList(_ arguments: inout Arguments, _ name: String) throws -> [String]? {
    guard let items = arguments.list(name) else { return nil }
    guard !(items.count == 1 && items[0].isEmpty) else { throw UsageError("--\(name) is empty") }
    return items
}
