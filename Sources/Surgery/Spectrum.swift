// The spectrum of a model's projections: for every layer, the cumulative explained-variance ratio of
// q, k, v (each its own PCA) and of the stacked [K; V] (the shared-kv basis), as curves (SVG, one
// file per matrix kind, one line per layer) and as a table of the components each threshold needs.
// The decompositions are the surgeon's, so a spectrum and a sweep on one surgeon fit each PCA once.

public struct Spectrum: Sendable {
    /// The thresholds the table lists.
    public static let thresholds = [0.99, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3, 0.1]

    /// One matrix (or stack) of one layer.
    public struct Curve: Sendable, Equatable {
        public let layer: Int
        /// `q`, `k`, `v`, … or `kv` for the stacked K/V.
        public let matrix: String
        /// Explained-variance (energy, uncentred) ratio of each component, decreasing.
        public let ratios: [Double]
        /// cumulative[i] = ratios[0] + … + ratios[i] (a float32 running sum for PCA, as the study's).
        public let cumulative: [Double]
        let rule: CountRule

        /// Components needed to reach threshold t: the rule surgery uses (`componentCount`).
        public func componentsNeeded(_ t: Double) -> Int { componentCount(cumulative: cumulative, threshold: t, rule: rule) }
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
        try surgeon.prepare(plans, progress: progress)
        var curves: [Curve] = []
        for plan in plans {
            for group in try plan.groups(for: surgeon.base) {
                let name = group.members.count == 1 ? group.members[0].target.rawValue : "kv"
                let fit = try surgeon.decomposition(of: group, centred: centring.isCentred)
                curves.append(Curve(layer: group.members[0].layer, matrix: name, ratios: fit.ratios,
                                    cumulative: fit.cumulative, rule: fit.rule))
            }
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

    /// Writes `spectrum.csv` and the plots into `directory` (created if needed), each file whole.
    public func write(to directory: String) throws(SurgeryError) {
        try makeFolder(directory)
        try writeWholeFile(csv(), to: directory + "/spectrum.csv")
        for (name, svg) in plots() { try writeWholeFile(svg, to: directory + "/" + name) }
    }
}

// MARK: - The count rule

/// How a cumulative ratio is compared with a threshold.
enum CountRule: Sendable, Equatable {
    /// Ratios and their running sum in float32, compared with Float(t): numpy's
    /// `np.cumsum(ratio) >= t` on scikit-learn's float32 ratios, as in the study (and Linalg's
    /// `PCA.componentCount(forVariance:rule: .reaches)`). Centred fits use it.
    case float32
    /// In Double. The uncentred SVD's energy ratios, which have no scikit-learn counterpart.
    case float64
}

/// The smallest n with cumulative[n−1] ≥ t — the study's `np.argmax(np.cumsum(ratio) >= t) + 1` —
/// and every component at t = 1: a float32 running sum can reach 1.0 a few components early, or stop
/// a hair below it (the study's `argmax` of all-False then gives 1); neither means "100%".
func componentCount(cumulative: [Double], threshold t: Double, rule: CountRule) -> Int {
    if t >= 1 { return cumulative.count }
    let index: Int?
    switch rule {
    case .float32:
        let t32 = Float(t)
        index = cumulative.firstIndex { Float($0) >= t32 }     // cumulative holds float32 sums exactly
    case .float64:
        index = cumulative.firstIndex { $0 >= t }
    }
    return (index ?? (cumulative.count - 1)) + 1
}
