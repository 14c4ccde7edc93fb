// The sweep's report: the rows as a Markdown table, CSV and JSON, six SVG plots — perplexity
// (log scale) and KL against the variance threshold, the factored-parameter ratio and the KV cache, one
// line per mode and centring — and report.html, which holds them all (ReportHTML.swift). Every file is rewritten whole after each row (`writeWholeFile`), so an
// interrupted sweep leaves complete files holding the rows it finished.

public struct SweepReport: Sendable {
    /// The base model's evaluation (KL 0, top-1 1 by definition; its perplexity is the reference).
    public var base: EvaluationResult
    public var rows: [SweepRow]
    /// What was measured, printed above the table and stored in the JSON (model, text, windows, …).
    public var context: [(key: String, value: String)]
    /// The targets the sweep operated on, for titles.
    public var targets: [SurgeryTarget]

    public init(base: EvaluationResult, rows: [SweepRow] = [], targets: [SurgeryTarget] = SurgeryTarget.attentionQKV,
                context: [(key: String, value: String)] = []) {
        self.base = base
        self.rows = rows
        self.targets = targets
        self.context = context
    }

    /// The files `write(to:)` produces, in order: the page to open (report.html) last.
    public static let fileNames = ["sweep.md", "sweep.csv", "sweep.json", "perplexity-vs-threshold.svg",
                                   "kl-vs-threshold.svg", "perplexity-vs-parameters.svg", "kl-vs-parameters.svg",
                                   "perplexity-vs-kv-cache.svg", "kl-vs-kv-cache.svg", "report.html"]

    /// Writes every file into `directory` (created if needed), each one whole.
    public func write(to directory: String) throws(SurgeryError) {
        try makeFolder(directory)
        let plots = self.plots()
        let texts = [markdown(), csv(), json()] + plots.map(\.svg) + [html(plots: plots)]
        for (name, text) in zip(Self.fileNames, texts) { try writeWholeFile(text, to: directory + "/" + name) }
    }

    var targetList: String { targets.map(\.rawValue).joined(separator: ", ") }

    // MARK: - Markdown

    public func markdown() -> String {
        var out = "# PCA surgery sweep of \(targetList)\n\n"
        for (key, value) in context { out += "- \(key): \(value)\n" }
        out += "- base perplexity: \(fixed(base.perplexity, 3))\n\n"
        out += "| " + Self.tableHeader.joined(separator: " | ") + " |\n"
        out += "|---|---|---|" + String(repeating: "---:|", count: Self.tableHeader.count - 3) + "\n"
        for r in rows { out += "| " + Self.tableCells(r).joined(separator: " | ") + " |\n" }
        out += "\n" + Self.tableNote + "\n"
        return out
    }

    /// The table's columns: three that name the configuration, then numbers.
    static let tableHeader = ["basis", "mode", "centring", "threshold / rank / budget", "components q",
                              "components k/v (min–max)", "KV cache", "factored / dense", "rel. error", "perplexity",
                              "Δ perplexity", "KL(base‖surgered)", "top-1 agreement"]

    static let tableNote = "Components are means over layers (k/v: over all k and v matrices). Factored / dense counts "
        + "each group's basis (and mean, under centring pca) once, plus every matrix's coefficients. "
        + "KV cache: Σ_l r_l / Σ_l (rows of k_l and v_l), what a latent form would cache per token."

    /// One row of the table, as text.
    static func tableCells(_ r: SweepRow) -> [String] {
        let range = r.componentRangeKV.map { " (\($0.lowerBound)–\($0.upperBound))" } ?? ""
        return [
            "\(r.point.basis)", "\(r.point.grouping)", "\(r.point.centring)",
            r.point.selectionCell + (r.allocated ? " (allocated)" : ""),
            r.meanComponentsQ.map { fixed($0, 1) } ?? "–", (r.meanComponentsKV.map { fixed($0, 1) } ?? "–") + range,
            fixed(100 * r.kvCacheFraction, 1) + "%",
            fixed(r.factoredParameterRatio, 3), fixed(r.meanRelativeError, 4),
            significant(r.evaluation.perplexity, 5), (r.deltaPerplexity >= 0 ? "+" : "") + significant(r.deltaPerplexity, 4),
            significant(r.evaluation.meanKL, 4), fixed(r.evaluation.top1Agreement, 4),
        ]
    }

    // MARK: - CSV

    public static let csvColumns = ["mode", "centring", "threshold", "mean_components_q", "mean_components_kv",
                                    "factored_parameter_ratio", "mean_relative_error", "perplexity",
                                    "delta_perplexity", "kl", "top1_agreement", "basis", "selection",
                                    "allocated", "kv_cache_fraction", "min_components_kv", "max_components_kv"]

    /// One header line, one line per row; numbers in full (shortest round-trip) precision.
    public func csv() -> String {
        var out = Self.csvColumns.joined(separator: ",") + "\n"
        for r in rows {
            let low: String = r.componentRangeKV.map { "\($0.lowerBound)" } ?? ""
            let high: String = r.componentRangeKV.map { "\($0.upperBound)" } ?? ""
            let selection = r.point.selection
            var threshold = ""
            if case .variance(let t) = selection { threshold = exact(t) }
            let fields: [String] = [
                csvField("\(r.point.grouping)"), "\(r.point.centring)", threshold,
                r.meanComponentsQ.map(exact) ?? "", r.meanComponentsKV.map(exact) ?? "",
                exact(r.factoredParameterRatio), exact(r.meanRelativeError), exact(r.evaluation.perplexity),
                exact(r.deltaPerplexity), exact(r.evaluation.meanKL), exact(r.evaluation.top1Agreement),
                csvField("\(r.point.basis)"), csvField(r.point.selectionCell), r.allocated ? "true" : "false",
                exact(r.kvCacheFraction), low, high,
            ]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    // MARK: - JSON

    public func json() -> String {
        var out = "{\n  \"context\": {"
        out += context.map { "\n    \(jsonString($0.key)): \(jsonString($0.value))" }.joined(separator: ",")
        out += context.isEmpty ? "},\n" : "\n  },\n"
        out += "  \"targets\": [\(targets.map { jsonString($0.rawValue) }.joined(separator: ", "))],\n"
        out += "  \"base\": {\"perplexity\": \(jsonNumber(base.perplexity))},\n"
        out += "  \"rows\": ["
        out += rows.map { r in
            let fields = [
                ("mode", jsonString("\(r.point.grouping)")), ("centring", jsonString("\(r.point.centring)")),
                ("threshold", jsonNumber(r.point.threshold)), ("basis", jsonString("\(r.point.basis)")),
                ("selection", jsonString(r.point.selectionCell)), ("allocated", r.allocated ? "true" : "false"),
                ("kv_cache_fraction", jsonNumber(r.kvCacheFraction)),
                ("min_components_kv", jsonNumber(r.componentRangeKV.map { Double($0.lowerBound) })),
                ("max_components_kv", jsonNumber(r.componentRangeKV.map { Double($0.upperBound) })),
                ("mean_components_q", jsonNumber(r.meanComponentsQ)), ("mean_components_kv", jsonNumber(r.meanComponentsKV)),
                ("factored_parameter_ratio", jsonNumber(r.factoredParameterRatio)),
                ("mean_relative_error", jsonNumber(r.meanRelativeError)),
                ("perplexity", jsonNumber(r.evaluation.perplexity)), ("delta_perplexity", jsonNumber(r.deltaPerplexity)),
                ("kl", jsonNumber(r.evaluation.meanKL)), ("top1_agreement", jsonNumber(r.evaluation.top1Agreement)),
            ]
            return "\n    {" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        }.joined(separator: ",")
        out += rows.isEmpty ? "]\n}\n" : "\n  ]\n}\n"
        return out
    }

    // MARK: - Plots

    /// The four figures, named as in `fileNames`.
    public func plots() -> [(name: String, svg: String)] {
        let subtitle = "PCA surgery of \(targetList) · one line per basis, mode and centring · base perplexity \(fixed(base.perplexity, 2))"
        func chart(_ title: String, x: String, xOf: (SweepRow) -> Double?, y: String, yOf: (SweepRow) -> Double,
                   reference: SVGPlot.ReferenceLine?, denseLine: Bool = false) -> String {
            var plot = SVGPlot(title: title, subtitle: subtitle, xLabel: x, yLabel: y, xScale: .linear, yScale: .log)
            plot.series = seriesKeys.enumerated().map { index, key in
                let points = rows.filter { $0.seriesKey == key }.compactMap { r in xOf(r).map { (x: $0, y: yOf(r)) } }
                    .sorted { $0.x < $1.x }
                let colour = (modes.firstIndex(of: key.mode) ?? index) + (key.basis == .weights ? 0 : modes.count)
                let label = key.basis == .weights ? "\(key.mode) (\(key.centring))" : "\(key.mode) (\(key.basis)\(key.allocated ? ", allocated" : ""))"
                return SVGPlot.Series(label: label, points: points, color: SVGPlot.palette[colour % SVGPlot.palette.count],
                                      dashed: key.basis == .weights ? key.centring != .pca : !key.allocated)
            }.filter { !$0.points.isEmpty }
            if let reference { plot.referenceLines = [reference] }
            if denseLine { plot.referenceLines.append(SVGPlot.ReferenceLine(x: 1, label: "dense size")) }
            return plot.render()
        }
        let baseLine = SVGPlot.ReferenceLine(y: base.perplexity, label: "base \(fixed(base.perplexity, 2))")
        let threshold = "variance threshold (fraction of variance kept)"
        let ratio = "factored / dense parameters of the targeted matrices"
        let cache = "KV cache of a latent form (fraction of the dense cache)"
        return [
            (Self.fileNames[3], chart("Perplexity against the variance threshold", x: threshold, xOf: { $0.point.threshold },
                                      y: "perplexity (log scale)", yOf: { $0.evaluation.perplexity }, reference: baseLine)),
            (Self.fileNames[4], chart("KL(base ‖ surgered) against the variance threshold", x: threshold, xOf: { $0.point.threshold },
                                      y: "mean KL per token, nats (log scale)", yOf: { $0.evaluation.meanKL }, reference: nil)),
            (Self.fileNames[5], chart("Perplexity against the factored size", x: ratio, xOf: { $0.factoredParameterRatio },
                                      y: "perplexity (log scale)", yOf: { $0.evaluation.perplexity }, reference: baseLine, denseLine: true)),
            (Self.fileNames[6], chart("KL(base ‖ surgered) against the factored size", x: ratio, xOf: { $0.factoredParameterRatio },
                                      y: "mean KL per token, nats (log scale)", yOf: { $0.evaluation.meanKL }, reference: nil, denseLine: true)),
            (Self.fileNames[7], chart("Perplexity against the KV cache", x: cache, xOf: { $0.kvCacheFraction },
                                      y: "perplexity (log scale)", yOf: { $0.evaluation.perplexity }, reference: baseLine)),
            (Self.fileNames[8], chart("KL(base ‖ surgered) against the KV cache", x: cache, xOf: { $0.kvCacheFraction },
                                      y: "mean KL per token, nats (log scale)", yOf: { $0.evaluation.meanKL }, reference: nil)),
        ]
    }

    /// Modes in order of first appearance (one colour each).
    private var modes: [Grouping] {
        rows.reduce(into: []) { if !$0.contains($1.point.grouping) { $0.append($1.point.grouping) } }
    }

    /// (basis, mode, centring, allocated) in order of first appearance (one line each).
    private var seriesKeys: [SweepRow.SeriesKey] {
        rows.reduce(into: []) { if !$0.contains($1.seriesKey) { $0.append($1.seriesKey) } }
    }
}

extension SweepRow {
    /// What one line of a plot holds in common.
    struct SeriesKey: Hashable {
        let basis: Basis
        let mode: Grouping
        let centring: Centring
        let allocated: Bool
    }

    var seriesKey: SeriesKey { SeriesKey(basis: point.basis, mode: point.grouping, centring: point.centring, allocated: allocated) }
}
