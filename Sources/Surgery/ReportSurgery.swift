// One surgery's statistics as text: a Markdown table with one row per matrix, and the plan-level
// summary, for `surgery run` to print or save.

extension SurgerySummary {
    /// `q: 123.4 components (mean) · k/v: 45.6 · factored/dense 0.512 · mean relative error 0.1234`
    public var line: String {
        var parts: [String] = []
        if let q = meanComponentsQ { parts.append("q: \(fixed(q, 1)) components (mean)") }
        if let kv = meanComponentsKV { parts.append("k/v: \(fixed(kv, 1))") }
        for target in SurgeryTarget.allCases where ![.q, .k, .v].contains(target) {
            if let n = meanComponents(target) { parts.append("\(target): \(fixed(n, 1))") }
        }
        parts.append("factored/dense \(fixed(factoredParameterRatio, 3)) (\(factoredParameters) of \(denseParameters) parameters)")
        parts.append("mean relative error \(fixed(meanRelativeError, 4))")
        return parts.joined(separator: " · ")
    }
}

extension SurgeryResult {
    /// The plan, the summary, and one table row per matrix.
    public func markdown() -> String {
        var out = "Plan: \(plan)\n\n\(summary.line)\n\n"
        out += "| layer | matrix | group | components | explained | rel. error | factored / dense |\n"
        out += "|---:|---|---|---:|---:|---:|---:|\n"
        for s in statistics {
            out += "| \(s.matrix.layer) | \(s.matrix.target) | \(s.group) | \(s.components) / \(s.componentLimit) | "
            out += "\(fixed(s.varianceExplained, 4)) | \(fixed(s.relativeError, 4)) | \(fixed(s.factoredRatio, 3)) |\n"
        }
        return out
    }
}
