// report.html: the one page to open after a sweep or a spectrum. Self-contained — no scripts, no
// external styles, fonts or images; the SVG plots are inline — with the run's context, a paragraph
// that reads the result, the table and the plots. Well-formed XML as well as HTML, so an XML parser
// can check it.

// MARK: - The page

/// An HTML page assembled from parts rendered elsewhere (the tables' cells, the plots' SVG).
struct HTMLPage {
    struct Table {
        var caption: String
        var header: [String]
        var rows: [[String]]
        /// Columns from this one on hold numbers (right-aligned).
        var firstNumericColumn: Int
        /// Rows drawn highlighted (the ones the reading names).
        var highlighted: Set<Int> = []
        var note: String? = nil
    }

    var title: String
    var context: [(key: String, value: String)]
    var reading: String
    var tables: [Table]
    var figures: [(name: String, svg: String)]

    func render() -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(xmlEscaped(title))</title>
        <style>
        \(Self.style)
        </style>
        </head>
        <body>
        <h1>\(xmlEscaped(title))</h1>

        """
        if !context.isEmpty {
            out += "<dl class=\"context\">\n"
            for (key, value) in context { out += "<dt>\(xmlEscaped(key))</dt><dd>\(xmlEscaped(value))</dd>\n" }
            out += "</dl>\n"
        }
        out += "<p class=\"reading\">\(xmlEscaped(reading))</p>\n"
        for table in tables {
            out += "<h2>\(xmlEscaped(table.caption))</h2>\n<div class=\"table\"><table>\n<thead><tr>"
            for (column, name) in table.header.enumerated() {
                out += "<th\(column >= table.firstNumericColumn ? " class=\"n\"" : "")>\(xmlEscaped(name))</th>"
            }
            out += "</tr></thead>\n<tbody>\n"
            for (index, row) in table.rows.enumerated() {
                out += table.highlighted.contains(index) ? "<tr class=\"best\">" : "<tr>"
                for (column, cell) in row.enumerated() {
                    out += "<td\(column >= table.firstNumericColumn ? " class=\"n\"" : "")>\(xmlEscaped(cell))</td>"
                }
                out += "</tr>\n"
            }
            out += "</tbody>\n</table></div>\n"
            if let note = table.note { out += "<p class=\"note\">\(xmlEscaped(note))</p>\n" }
        }
        if !figures.isEmpty {
            out += "<h2>Plots</h2>\n<div class=\"figures\">\n"
            for (index, figure) in figures.enumerated() {
                out += "<figure id=\"\(xmlEscaped(figure.name))\">\n\(Self.inline(figure.svg, number: index))"
                out += "<figcaption>\(xmlEscaped(figure.name))</figcaption>\n</figure>\n"
            }
            out += "</div>\n"
        }
        out += "</body>\n</html>\n"
        return out
    }

    /// An SVG file's text as an element of the page. Each plot names its clip path "plot"; ids are
    /// global in an HTML document, so every plot gets its own (else all would clip to the first's).
    static func inline(_ svg: String, number: Int) -> String {
        svg.replacing("id=\"plot\"", with: "id=\"plot-\(number)\"")
            .replacing("url(#plot)", with: "url(#plot-\(number))")
    }

    static let style = """
    body { font-family: Helvetica, Arial, sans-serif; font-size: 14px; color: #222; margin: 24px auto;
           max-width: 1280px; padding: 0 16px; line-height: 1.45; }
    h1 { font-size: 22px; margin: 0 0 12px; }
    h2 { font-size: 17px; margin: 28px 0 8px; }
    dl.context { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 16px;
                 color: #444; }
    dl.context dt { font-weight: bold; }
    dl.context dd { margin: 0; overflow-wrap: anywhere; }
    p.reading { font-size: 15px; background: #f4f7fb; border-left: 4px solid #0072B2; padding: 10px 14px;
                margin: 0 0 8px; }
    p.note { color: #555; font-size: 12px; margin: 6px 0 0; }
    div.table { overflow-x: auto; }
    table { border-collapse: collapse; font-size: 12.5px; white-space: nowrap; }
    th, td { padding: 3px 8px; border-bottom: 1px solid #e2e2e2; text-align: left; }
    th { background: #f0f0f0; white-space: normal; vertical-align: bottom; max-width: 9em; }
    th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; }
    tbody tr:nth-child(even) { background: #fafafa; }
    tr.best { background: #fff3d6 !important; font-weight: bold; }
    div.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
    figure { margin: 0; }
    figure svg { width: 100%; height: auto; border: 1px solid #e2e2e2; }
    figcaption { color: #666; font-size: 12px; }
    """
}

// MARK: - Sweep

extension SweepReport {
    /// KV-cache bands the reading names a best configuration in, as fractions of the dense cache.
    package static let kvCacheBands: [Range<Double>] = [0..<0.25, 0.25..<0.5, 0.5..<0.75, 0.75..<1.000_001]

    /// The best row of each KV-cache band (lowest perplexity, then lowest KL), as indices into `rows`.
    func bestPerKVCacheBand() -> [(band: Range<Double>, row: Int)] {
        Self.kvCacheBands.compactMap { band in
            let inBand = rows.indices.filter { band.contains(rows[$0].kvCacheFraction) }
            let best = inBand.min { a, b in
                (rows[a].evaluation.perplexity, rows[a].evaluation.meanKL) < (rows[b].evaluation.perplexity, rows[b].evaluation.meanKL)
            }
            return best.map { (band, $0) }
        }
    }

    /// One paragraph: the base model, the best configuration per KV-cache band, the worst one.
    public func reading() -> String {
        let basePerplexity = fixed(base.perplexity, 2)
        guard !rows.isEmpty else { return "No configuration has finished yet. The base model's perplexity is \(basePerplexity)." }
        func percent(_ x: Double) -> String { fixed(100 * x, 0) + "%" }
        var out = "The base model's perplexity is \(basePerplexity). "
        let best = bestPerKVCacheBand().enumerated().map { number, pick in
            let r = rows[pick.row], band = pick.band
            let share = band.upperBound > 1 ? "\(percent(band.lowerBound)) or more" : "\(percent(band.lowerBound))–\(percent(band.upperBound))"
            let figures = "(cache \(fixed(100 * r.kvCacheFraction, 1))%, perplexity \(significant(r.evaluation.perplexity, 4)), "
                + "KL \(significant(r.evaluation.meanKL, 3)), top-1 \(fixed(100 * r.evaluation.top1Agreement, 1))%)"
            return number == 0 ? "With a KV cache of \(share) of the dense one, the best configuration is \(r.point) \(figures)"
                : "at \(share), \(r.point) \(figures)"
        }
        out += best.joined(separator: "; ") + ". "
        let worst = rows.max { $0.evaluation.perplexity < $1.evaluation.perplexity }!
        let ratio = worst.evaluation.perplexity / base.perplexity
        out += "The worst, \(worst.point) (cache \(fixed(100 * worst.kvCacheFraction, 1))%), reaches perplexity "
            + "\(significant(worst.evaluation.perplexity, 4)): \(significant(ratio, 3))× the base."
        return out
    }

    /// The page: context, reading, the table with each band's best row highlighted, the plots.
    func html(plots: [(name: String, svg: String)]) -> String {
        var table = HTMLPage.Table(caption: "All configurations", header: Self.tableHeader,
                                   rows: [["base", "–", "–", "–", "–", "–", "100.0%", "1.000", "0.0000",
                                           significant(base.perplexity, 5), "+0", "0", "1.0000"]] + rows.map(Self.tableCells),
                                   firstNumericColumn: 3, note: Self.tableNote + " Highlighted: the best row of each KV-cache band.")
        table.highlighted = Set(bestPerKVCacheBand().map { $0.row + 1 })
        let page = HTMLPage(title: "PCA surgery sweep of \(targetList)",
                            context: context + [("rows", "\(rows.count)")],
                            reading: reading(), tables: [table], figures: plots)
        return page.render()
    }
}

// MARK: - Spectrum

extension Spectrum {
    /// One paragraph: the components each matrix kind needs across layers at the study's 0.9.
    public func reading(threshold: Double = 0.9) -> String {
        let layers = Set(curves.map(\.layer)).count
        let parts = matrices.map { matrix in
            let needed = curves.filter { $0.matrix == matrix }.map { $0.componentsNeeded(threshold) }
            let limit = curves.first { $0.matrix == matrix }?.ratios.count ?? 0
            let mean = Double(needed.reduce(0, +)) / Double(max(needed.count, 1))
            let name = matrix == "kv" ? "the stacked [K; V]" : matrix
            let (low, high) = (needed.min() ?? 0, needed.max() ?? 0)
            return "\(name) needs " + (low == high ? "\(low)" : "\(low)–\(high) (mean \(fixed(mean, 1)))") + " of \(limit)"
        }
        let what = centring == .none ? "energy" : "variance"
        return "To keep \(fixed(100 * threshold, 0))% of the \(what) across the \(layers) layers, " + parts.joined(separator: "; ")
            + ". A lower count at a threshold means the matrix is closer to low-rank there; the shared [K; V] basis "
            + "serves k and v together, so compare it with the k and v counts added."
    }

    /// Per matrix kind and threshold: the mean components over layers, and their range.
    func summaryTable() -> HTMLPage.Table {
        let rows = matrices.map { matrix -> [String] in
            let mine = curves.filter { $0.matrix == matrix }
            return [matrix == "kv" ? "[K; V]" : matrix, "\(mine.first?.ratios.count ?? 0)"] + Self.thresholds.map { t in
                let needed = mine.map { $0.componentsNeeded(t) }
                let mean = Double(needed.reduce(0, +)) / Double(max(needed.count, 1))
                return fixed(mean, 1) + " (\(needed.min() ?? 0)–\(needed.max() ?? 0))"
            }
        }
        return HTMLPage.Table(caption: "Components needed per threshold: mean over layers (min–max)",
                              header: ["matrix", "limit"] + Self.thresholds.map { fixed($0, 2) }, rows: rows,
                              firstNumericColumn: 1, note: "Every layer and threshold is in spectrum.csv.")
    }

    /// The page: context, reading, the summary table, the curves.
    public func html(context: [(key: String, value: String)] = []) -> String {
        let what = centring == .none ? "energy (uncentred SVD)" : "explained variance (PCA)"
        let names = matrices.map { $0 == "kv" ? "[K; V]" : $0 }.joined(separator: ", ")
        return HTMLPage(title: "Spectrum of \(names): cumulative \(what)",
                        context: context + [("centring", "\(centring)"), ("layers", "\(Set(curves.map(\.layer)).count)")],
                        reading: reading(), tables: [summaryTable()], figures: plots()).render()
    }
}
