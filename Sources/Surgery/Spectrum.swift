// The spectrum of a model's projections: for every layer, the cumulative explained-variance ratio of
// q, k, v (each its own PCA) and of the stacked [K; V] (the shared-kv basis), as curves (SVG, one
// file per matrix kind, one line per layer), as a table of the components each threshold needs, and
// as report.html holding both (ReportHTML.swift).
// A group the surgeon has already fitted (a sweep on it) gives its spectrum from that fit; the others
// are computed from the eigenvalues alone (PCASpectrum), which is about half the work of a fit.
import Linalg

public struct Spectrum: Sendable {
    /// The thresholds the table lists.
    public static let thresholds = Selection.studyThresholds

    /// One matrix (or stack) of one layer.
    public struct Curve: Sendable {
        public let layer: Int
        /// `q`, `k`, `v`, … or `kv` for the stacked K/V.
        public let matrix: String
        /// The fit's spectrum: its ratios, cumulative ratios and count rule.
        let fit: PCASpectrum

        /// Explained-variance (energy, uncentred) ratio of each component, decreasing.
        public var ratios: [Double] { fit.explainedVarianceRatio.map { Double($0) } }
        /// cumulative[i] = ratios[0] + … + ratios[i] (a float32 running sum for PCA, as the study's).
        public var cumulative: [Double] { fit.cumulativeRatio }

        /// Components needed to reach threshold t: the rule surgery uses (Linalg's count rule).
        public func componentsNeeded(_ t: Double) -> Int { fit.components(reaching: t) }
    }

    public let curves: [Curve]
    /// `pca` (centred; `seed` has the same spectrum) or `none` (singular-value energy).
    public let centring: Centring
    /// The matrix kinds in order: the targets, then `kv` when k and v are both among them.
    public let matrices: [String]

    /// Computes the curves of every layer for `targets` (default q, k, v) plus the stacked K/V.
    public init(surgeon: Surgeon, targets: [SurgeryTarget] = SurgeryTarget.attentionQKV, centring: Centring = .pca,
                progress: (SurgeryProgress) -> Void = { _ in }) throws(SurgeryError) {
        let centring: Centring = centring == .seed ? .pca : centring
        var plans = [try SurgeryPlan(targets: targets, grouping: .separate, selection: .variance(1), centring: centring)]
        let stacked = targets.contains(.k) && targets.contains(.v)
        if stacked { plans.append(try SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .variance(1), centring: centring)) }
        var groups: [MatrixGroup] = []
        for plan in plans { groups += try plan.groups(for: surgeon.base) }
        let spectra = try surgeon.spectra(of: groups, centred: centring.isCentred, progress: progress)
        let curves = zip(groups, spectra).map { group, fit in
            Curve(layer: group.members[0].layer, matrix: group.members.count == 1 ? group.members[0].target.rawValue : "kv", fit: fit)
        }
        let matrices = plans[0].targets.map(\.rawValue) + (stacked ? ["kv"] : [])
        self.centring = centring
        self.matrices = matrices
        self.curves = curves.sorted { ($0.layer, matrices.firstIndex(of: $0.matrix)!) < ($1.layer, matrices.firstIndex(of: $1.matrix)!) }
    }

    // MARK: - Table

    /// `layer,matrix,threshold,components,component_limit,explained`: one row per (layer, matrix,
    /// threshold), thresholds as in `Spectrum.thresholds`; `explained` is the cumulative ratio reached.
    public func csv() -> String {
        var out = "layer,matrix,threshold,components,component_limit,explained\n"
        for curve in curves {
            for t in Self.thresholds {
                let n = curve.componentsNeeded(t)
                out += "\(curve.layer),\(curve.matrix),\(exact(t)),\(n),\(curve.ratios.count),\(exact(curve.cumulative[n - 1]))\n"
            }
        }
        return out
    }

    // MARK: - Plots

    /// `spectrum-q.svg`, `spectrum-k.svg`, …, `spectrum-kv.svg`: cumulative ratio against
    /// components, one line per layer coloured from the first layer (dark) to the last (yellow).
    public func plots() -> [(name: String, svg: String)] {
        let layers = Set(curves.map(\.layer)).sorted()
        let labelEvery = layers.count <= 10 ? 1 : 5
        let what = centring == .none ? "energy (uncentred SVD)" : "explained variance (PCA)"
        return matrices.map { matrix in
            let title = matrix == "kv" ? "Cumulative \(what) of the stacked [K; V]" : "Cumulative \(what) of \(matrix)_proj"
            var plot = SVGPlot(title: title, subtitle: "one line per layer · the threshold a surgery uses is a horizontal cut",
                               xLabel: "components kept", yLabel: "cumulative ratio", yRange: 0...1)
            for curve in curves where curve.matrix == matrix {
                let t = layers.count > 1 ? Double(layers.firstIndex(of: curve.layer)!) / Double(layers.count - 1) : 0
                let labelled = curve.layer % labelEvery == 0 || curve.layer == layers.last
                plot.series.append(SVGPlot.Series(label: labelled ? "layer \(curve.layer)" : nil,
                                                  points: [(x: 0, y: 0)] + curve.cumulative.enumerated().map { (x: Double($0 + 1), y: $1) },
                                                  color: SVGPlot.gradient(t), markers: false, lineWidth: 1.4))
            }
            plot.referenceLines = [SVGPlot.ReferenceLine(y: 0.9, label: "0.90")]
            return ("spectrum-\(matrix).svg", plot.render())
        }
    }

    /// Writes `spectrum.csv`, the plots and `report.html` (headed by `context`: model, …) into
    /// `directory` (created if needed), each file whole.
    public func write(to directory: String, context: [(key: String, value: String)] = []) throws(SurgeryError) {
        try makeFolder(directory)
        try writeWholeFile(csv(), to: directory + "/spectrum.csv")
        for (name, svg) in plots() { try writeWholeFile(svg, to: directory + "/" + name) }
        try writeWholeFile(html(context: context), to: directory + "/report.html")
    }
}
