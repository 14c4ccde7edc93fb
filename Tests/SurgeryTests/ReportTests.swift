// Sweeps, reports and spectra on the tiny model: rows arrive in order as they finish, every report
// file is complete and parses, the plots are well-formed SVG, and the spectrum's table follows the
// component-count rule. Set SURGERY_TEST_OUTPUT=folder to keep the files for a look.
import Testing
import Foundation
import Llama
import Surgery

/// A stand-in evaluation: deterministic in the weights, monotone in what the surgery removed.
func fakeEvaluation(base: Weights) -> (Weights) throws -> EvaluationResult {
    { w in
        var error = 0.0
        for l in 0..<w.layers.count {
            error += relativeFrobeniusError(base.layers[l].k.decoded().scalars, w.layers[l].k.decoded().scalars)
            error += relativeFrobeniusError(base.layers[l].q.decoded().scalars, w.layers[l].q.decoded().scalars)
        }
        return EvaluationResult(perplexity: 12 * exp(3 * error), meanKL: 0.5 * error * error + 1e-4, top1Agreement: 1 / (1 + error))
    }
}

func outputFolder(_ name: String) -> String {
    if let keep = ProcessInfo.processInfo.environment["SURGERY_TEST_OUTPUT"], !keep.isEmpty { return keep + "/" + name }
    return FileManager.default.temporaryDirectory.path + "/surgery-test-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
}

/// float32 explained-variance ratios of ≤ 16 components sum to 1 within a few ulps.
let float32RatioSum = 1e-6

@Suite struct SweepAndReports {
    let weights = TinyModel.weights
    let base = EvaluationResult(perplexity: 12, meanKL: 0, top1Agreement: 1)

    @Test func sweepRowsArriveInOrderAndReuseDecompositions() throws {
        let points = SweepPoint.grid(modes: [.separate, .sharedKV], centrings: [.pca, .seed], thresholds: [0.99, 0.9, 0.5])
        #expect(points.count == 12)
        #expect(points[0] == SweepPoint(grouping: .separate, centring: .pca, threshold: 0.99))
        #expect(points[11] == SweepPoint(grouping: .sharedKV, centring: .seed, threshold: 0.5))
        let surgeon = Surgeon(base: weights)
        var seen: [SweepPoint] = []
        var progressTotal = 0
        let rows = try Sweep(points: points).run(on: surgeon, base: base, evaluate: fakeEvaluation(base: weights),
                                                  progress: { progressTotal = $0.total }, onRow: { seen.append($0.point) })
        #expect(seen == points)
        #expect(rows.map(\.point) == points)
        #expect(progressTotal == 12)                     // q, k, v, k+v per layer, each fitted once
        #expect(surgeon.cachedDecompositions == 12)
        for row in rows {
            #expect(row.deltaPerplexity == row.evaluation.perplexity - 12)
            #expect(row.factoredParameterRatio > 0)
            #expect(row.meanComponentsQ != nil && row.meanComponentsKV != nil)
        }
    }

    @Test func anInterruptedSweepKeepsItsRows() throws {
        struct Stop: Error {}
        let points = SweepPoint.grid(modes: [.sharedKV], centrings: [.pca], thresholds: [0.99, 0.9, 0.5])
        var kept: [SweepRow] = []
        var calls = 0
        #expect(throws: Stop.self) {
            try Sweep(points: points).run(on: Surgeon(base: weights), base: base, evaluate: { w in
                calls += 1
                if calls == 3 { throw Stop() }
                return try fakeEvaluation(base: weights)(w)
            }, onRow: { kept.append($0) })
        }
        #expect(kept.map(\.point.threshold) == [0.99, 0.9])
    }

    @Test func sweepValidatesItsPoints() {
        #expect(throws: SurgeryError.thresholdOutOfRange(0)) {
            try Sweep(points: [SweepPoint(grouping: .sharedKV, centring: .pca, threshold: 0)])
        }
        #expect(throws: SurgeryError.sharedKVNeedsKAndV(mode: "shared-kv", targets: ["q"])) {
            try Sweep(targets: [.q], points: [SweepPoint(grouping: .sharedKV, centring: .pca, threshold: 0.5)])
        }
    }

    @Test func reportFilesAreCompleteAndParse() throws {
        let points = SweepPoint.grid(modes: [.separate, .sharedKV, .sharedKVLayers(groupSize: nil)], centrings: [.pca, .seed],
                                     thresholds: [0.99, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3, 0.1])
        let rows = try Sweep(points: points).run(on: Surgeon(base: weights), base: base, evaluate: fakeEvaluation(base: weights))
        let report = SweepReport(base: base, rows: rows, context: [("model", "tiny \"random\", seeded"), ("windows", "none")])
        let folder = outputFolder("sweep")
        try? FileManager.default.removeItem(atPath: folder)
        try report.write(to: folder)
        defer { if ProcessInfo.processInfo.environment["SURGERY_TEST_OUTPUT"] == nil { try? FileManager.default.removeItem(atPath: folder) } }

        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(files == SweepReport.fileNames.sorted())         // no temporary files left behind

        let csv = try String(contentsOfFile: folder + "/sweep.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + rows.count)
        #expect(csv[0] == SweepReport.csvColumns.joined(separator: ","))
        #expect(csv.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == SweepReport.csvColumns.count })
        #expect(csv[1].hasPrefix("separate,pca,0.99,"))

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/sweep.json"))) as! [String: Any]
        let jsonRows = json["rows"] as! [[String: Any]]
        #expect(jsonRows.count == rows.count)
        #expect((json["context"] as! [String: String])["model"] == "tiny \"random\", seeded")
        #expect(jsonRows[3]["perplexity"] as? Double == rows[3].evaluation.perplexity)   // shortest round-trip text

        let markdown = try String(contentsOfFile: folder + "/sweep.md", encoding: .utf8)
        #expect(markdown.split(separator: "\n").filter { $0.hasPrefix("| ") }.count == 1 + rows.count)

        for name in SweepReport.fileNames where name.hasSuffix(".svg") {
            let svg = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
            #expect(svg.hasSuffix("</svg>\n"))
            #expect(svg.components(separatedBy: "<polyline").count - 1 >= 6, "\(name): one line per mode and centring")
            _ = try XMLDocumentCheck.parse(svg)
        }
    }

    @Test func spectrumTableFollowsTheCountRule() throws {
        let surgeon = Surgeon(base: weights)
        let spectrum = try Spectrum(surgeon: surgeon)
        #expect(spectrum.matrices == ["q", "k", "v", "kv"])
        #expect(spectrum.curves.count == 3 * 4)
        #expect(spectrum.curves.map(\.ratios.count).prefix(4) == [16, 8, 8, 16])
        // Eigenvalues only: nothing is fitted or cached; a surgery's fit then counts the same.
        #expect(surgeon.cachedDecompositions == 0)
        let plan = try SurgeryPlan(grouping: .sharedKV, selection: .variance(0.7))
        let stats = try surgeon.apply(plan).statistics
        let kv = spectrum.curves.first { $0.layer == 1 && $0.matrix == "kv" }!
        #expect(stats.first { $0.matrix == MatrixID(layer: 1, target: .k) }!.components == kv.componentsNeeded(0.7))
        // On a surgeon holding fits, the spectrum is read from them: the same curves.
        let fitted = Surgeon(base: weights)
        try fitted.prepare([try SurgeryPlan(grouping: .separate, selection: .variance(1)), plan])
        let held = fitted.cachedDecompositions
        let fromFits = try Spectrum(surgeon: fitted)
        #expect(fitted.cachedDecompositions == held)
        for (a, b) in zip(spectrum.curves, fromFits.curves) {
            #expect(a.layer == b.layer && a.matrix == b.matrix)
            #expect(Spectrum.thresholds.allSatisfy { a.componentsNeeded($0) == b.componentsNeeded($0) }, "layer \(a.layer) \(a.matrix)")
            #expect(zip(a.cumulative, b.cumulative).allSatisfy { abs($0 - $1) <= 1e-6 }, "layer \(a.layer) \(a.matrix)")
        }
        for curve in spectrum.curves {
            #expect(abs(curve.cumulative.last! - 1) < float32RatioSum)
            for t in Spectrum.thresholds {
                // PCA counts compare float32 running sums with Float(t), as the study does.
                let n = curve.componentsNeeded(t)
                #expect(Float(curve.cumulative[n - 1]) >= Float(t))
                #expect(n == 1 || Float(curve.cumulative[n - 2]) < Float(t))
            }
        }
        let csv = spectrum.csv().split(separator: "\n")
        #expect(csv.count == 1 + 12 * 8)
        #expect(csv[0] == "layer,matrix,threshold,components,component_limit,explained")
        #expect(csv[1].hasPrefix("0,q,0.99,"))

        let folder = outputFolder("spectrum")
        try? FileManager.default.removeItem(atPath: folder)
        try spectrum.write(to: folder)
        defer { if ProcessInfo.processInfo.environment["SURGERY_TEST_OUTPUT"] == nil { try? FileManager.default.removeItem(atPath: folder) } }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
                == ["report.html", "spectrum-k.svg", "spectrum-kv.svg", "spectrum-q.svg", "spectrum-v.svg", "spectrum.csv"])
        for name in ["spectrum-q.svg", "spectrum-kv.svg"] {
            _ = try XMLDocumentCheck.parse(try String(contentsOfFile: folder + "/" + name, encoding: .utf8))
        }
    }
}

@Suite struct UncentredSpectrum {
    /// Energy ratios of the uncentred SVD: σᵢ²/‖X‖²_F, so Σ ratios = 1 and the first n of them are
    /// the energy a rank-n truncated SVD keeps — the `none` surgery's error at that rank.
    @Test func energyCurvesMatchTheSurgery() throws {
        let weights = TinyModel.weights
        let surgeon = Surgeon(base: weights)
        let spectrum = try Spectrum(surgeon: surgeon, targets: [.k, .v], centring: .none)
        #expect(spectrum.matrices == ["k", "v", "kv"])
        let result = try surgeon.apply(SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(4), centring: .none))
        for layer in 0..<3 {
            let curve = spectrum.curves.first { $0.layer == layer && $0.matrix == "kv" }!
            #expect(abs(curve.cumulative.last! - 1) < 1e-12)
            var left = 0.0, total = 0.0
            for target in [LayerTensor.k, .v] {
                let w = weights.layers[layer][target].scalars, r = result.weights.layers[layer][target].scalars
                for i in 0..<w.count { left += Double(w[i] - r[i]) * Double(w[i] - r[i]); total += Double(w[i]) * Double(w[i]) }
            }
            #expect(abs(left / total - (1 - curve.cumulative[3])) < energyIdentityAbsolute)
        }
    }
}

@Suite struct Formatting {
    @Test func fixedDecimals() {
        #expect(fixed(3.14159, 2) == "3.14")
        #expect(fixed(-2.5, 0) == "-3")
        #expect(fixed(0.005, 2) == "0.01")
        #expect(fixed(-0.0004, 2) == "0.00")
        #expect(fixed(0.05, 3) == "0.050")
        #expect(fixed(1234, 0) == "1234")
        #expect(fixed(.infinity, 2) == "inf")
        #expect(fixed(.nan, 2) == "nan")
    }

    @Test func significantDigits() {
        #expect(significant(0.000123456, 3) == "0.000123")
        #expect(significant(1.23456e-5, 3) == "1.23e-05")
        #expect(significant(12.3456, 4) == "12.35")
        #expect(significant(9.9999e7, 2) == "1.0e+08")
        #expect(significant(0, 3) == "0.00")
    }

    @Test func escaping() {
        #expect(csvField("a,b") == "\"a,b\"")
        #expect(csvField("say \"x\"") == "\"say \"\"x\"\"\"")
        #expect(jsonString("a\"b\\c\n\u{1}") == "\"a\\\"b\\\\c\\n\\u0001\"")
        #expect(xmlEscaped("K ‖ <V> & \"q\"") == "K ‖ &lt;V&gt; &amp; &quot;q&quot;")
        #expect(jsonNumber(.nan) == "null" && jsonNumber(nil) == "null" && jsonNumber(0.1) == "0.1")
    }

    @Test func niceTicks() {
        #expect(SVGPlot.niceStep(0.13) == 0.2)
        #expect(SVGPlot.niceStep(3) == 5)
        #expect(SVGPlot.niceStep(0.07) == 0.1)
        let axis = SVGPlot.axis(.log, data: [11.2, 540], range: nil, pixels: (0, 100))
        #expect(axis.low == 10 && axis.high == 1000)
        #expect(axis.ticks.compactMap(\.label) == ["10", "20", "50", "100", "200", "500", "1000"])
        #expect(abs(axis.pixel(100) - 50) < 1e-9)
    }

    @Test func wholeFileReplacesAtomically() throws {
        let folder = outputFolder("whole")
        try makeFolder(folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try writeWholeFile("first", to: folder + "/a.txt")
        try writeWholeFile("second", to: folder + "/a.txt")
        #expect(try String(contentsOfFile: folder + "/a.txt", encoding: .utf8) == "second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["a.txt"])
        #expect(throws: SurgeryError.self) { try writeWholeFile("x", to: folder + "/missing/b.txt") }
    }
}
