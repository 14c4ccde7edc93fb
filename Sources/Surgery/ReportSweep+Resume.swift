// Reading back the sweep.json a sweep wrote, so that an interrupted sweep can go on (`sweep
// --resume DIR`): the context, the targets, the base perplexity and every finished row. The JSON
// holds each number in shortest round-trip form (`exact`), so the rows read back are the rows
// written, bit for bit; a perplexity that overflowed was written as null and reads back as +∞.
import Llama
import FoundationEssentials

extension SweepReport {
    /// The report in `directory`/sweep.json.
    public static func read(from directory: String) throws(SurgeryError) -> SweepReport {
        let path = directory + "/sweep.json"
        func failure(_ reason: String) -> SurgeryError { .unreadableSweep(path: path, reason: reason) }
        guard FileManager.default.fileExists(atPath: path) else { throw failure("no such file (is this a sweep's folder?)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw failure("cannot read it") }
        let json: JSONValue
        do { json = try JSON.parse([UInt8](data)) } catch { throw failure("not JSON: \(error)") }

        guard let contextMembers = json["context"]?.objectMembers else { throw failure("no \"context\" object") }
        var context: [(key: String, value: String)] = []
        for member in contextMembers {
            guard let value = member.value.stringValue else { throw failure("context \"\(member.key)\" is not a string") }
            context.append((member.key, value))
        }
        guard let targetNames = json["targets"]?.arrayValue?.map(\.stringValue) else { throw failure("no \"targets\" list") }
        let targets = try targetNames.map { (name: String?) throws(SurgeryError) -> SurgeryTarget in
            guard let name, let target = SurgeryTarget(rawValue: name) else { throw failure("unknown target \(name ?? "null")") }
            return target
        }
        guard let basePerplexity = json["base"]?["perplexity"].flatMap(number) else { throw failure("no base perplexity") }
        guard let rowValues = json["rows"]?.arrayValue else { throw failure("no \"rows\" list") }
        var rows: [SweepRow] = []
        for (index, value) in rowValues.enumerated() {
            do throws(RowError) { rows.append(try row(value)) } catch {
                throw failure("row \(index + 1): \(error.reason)")
            }
        }
        return SweepReport(base: EvaluationResult(perplexity: basePerplexity, meanKL: 0, top1Agreement: 1),
                           rows: rows, targets: targets, context: context)
    }
}

private struct RowError: Error {
    let reason: String
}

/// One row of `SweepReport.json()`, its point parsed back from the names it was written with.
private func row(_ value: JSONValue) throws(RowError) -> SweepRow {
    func string(_ key: String) throws(RowError) -> String {
        guard let s = value[key]?.stringValue else { throw RowError(reason: "\"\(key)\" is missing or not a string") }
        return s
    }
    func double(_ key: String) throws(RowError) -> Double? {
        guard let field = value[key] else { throw RowError(reason: "\"\(key)\" is missing") }
        if case .null = field { return nil }
        guard let x = number(field) else { throw RowError(reason: "\"\(key)\" is not a number") }
        return x
    }
    func required(_ key: String, nullMeans: Double? = nil) throws(RowError) -> Double {
        guard let x = try double(key) ?? nullMeans else { throw RowError(reason: "\"\(key)\" is null") }
        return x
    }

    let grouping = try grouping(string("mode"))
    guard let centring = Centring(rawValue: try string("centring")) else { throw RowError(reason: "unknown centring") }
    let basis: Basis
    switch try string("basis") {
    case Basis.weights.description: basis = .weights
    case Basis.activations(balanced: false).description: basis = .activations(balanced: false)
    case Basis.activations(balanced: true).description: basis = .activations(balanced: true)
    case let other: throw RowError(reason: "unknown basis \"\(other)\"")
    }
    // The selection: a variance threshold is stored exactly in "threshold"; ranks and budgets in
    // their cells, "r 192" and "F 0.5" (the budget written with `exact`).
    let selection: Selection
    let cell = try string("selection")
    if let t = try double("threshold") {
        selection = .variance(t)
    } else if cell.hasPrefix("r "), let r = Int(cell.dropFirst(2)) {
        selection = .rank(r)
    } else if cell.hasPrefix("F "), let f = Double(cell.dropFirst(2)) {
        selection = .kvBudget(f)
    } else {
        throw RowError(reason: "selection \"\(cell)\" is not a threshold, rank or budget")
    }
    guard case .bool(let allocated) = value["allocated"] else { throw RowError(reason: "\"allocated\" is not true or false") }
    let low = try double("min_components_kv"), high = try double("max_components_kv")
    var range: ClosedRange<Int>?
    if let low, let high {
        guard let lower = Int(exactly: low), let upper = Int(exactly: high), lower <= upper else {
            throw RowError(reason: "the k/v component range \(low)–\(high) is not a range of counts")
        }
        range = lower...upper
    }
    return SweepRow(point: SweepPoint(grouping: grouping, centring: centring, basis: basis, selection: selection),
                    allocated: allocated, meanComponentsQ: try double("mean_components_q"),
                    meanComponentsKV: try double("mean_components_kv"), componentRangeKV: range,
                    factoredParameterRatio: try required("factored_parameter_ratio"),
                    meanRelativeError: try required("mean_relative_error"),
                    kvCacheFraction: try required("kv_cache_fraction"),
                    evaluation: EvaluationResult(perplexity: try required("perplexity", nullMeans: .infinity),
                                                 meanKL: try required("kl", nullMeans: .infinity),
                                                 top1Agreement: try required("top1_agreement")),
                    deltaPerplexity: try required("delta_perplexity", nullMeans: .infinity))
}

/// `separate`, `shared-kv`, `shared-kv-layers`, `shared-kv-layers:6`: `Grouping.description` read back.
private func grouping(_ name: String) throws(RowError) -> Grouping {
    switch name {
    case Grouping.separate.description: return .separate
    case Grouping.sharedKV.description: return .sharedKV
    case Grouping.sharedKVLayers(groupSize: nil).description: return .sharedKVLayers(groupSize: nil)
    default:
        let prefix = Grouping.sharedKVLayers(groupSize: nil).description + ":"
        guard name.hasPrefix(prefix), let n = Int(name.dropFirst(prefix.count)), n >= 1 else {
            throw RowError(reason: "unknown mode \"\(name)\"")
        }
        return .sharedKVLayers(groupSize: n)
    }
}

private func number(_ value: JSONValue) -> Double? {
    switch value {
    case .integer(let i): Double(i)
    case .number(let x): x
    default: nil
    }
}
