// report.html of a sweep and of a spectrum on the tiny model: one self-contained page (nothing loaded
// from anywhere, the plots inline with their own clip-path ids), well-formed, with the reading and
// the table; and, where Debian's chromium is installed, rendered by a real browser to a PNG.
// SURGERY_TEST_OUTPUT=folder keeps the pages and screenshots for a look.
import Foundation
import Llama
import Surgery
import Testing

/// A sweep of the tiny model with the stand-in evaluation, written to `name`'s folder.
private func sweepFolder(_ name: String) throws -> (folder: String, report: SweepReport) {
    let weights = TinyModel.weights
    let base = EvaluationResult(perplexity: 12, meanKL: 0, top1Agreement: 1)
    let points = SweepPoint.grid(modes: [.separate, .sharedKV], centrings: [.pca, .seed],
                                 thresholds: [0.99, 0.95, 0.9, 0.8, 0.7, 0.5, 0.3, 0.1])
    let rows = try Sweep(points: points).run(on: Surgeon(base: weights), base: base, evaluate: fakeEvaluation(base: weights))
    let report = SweepReport(base: base, rows: rows, context: [("model", "tiny <random> & seeded"), ("windows", "none")])
    let folder = outputFolder(name)
    try? FileManager.default.removeItem(atPath: folder)
    try report.write(to: folder)
    return (folder, report)
}

/// What makes a page self-contained: nothing it would fetch.
private func expectSelfContained(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for fetch in ["<script", "<link", "src=", "href=", "@import", "url(http", "<img", "<iframe"] {
        #expect(!html.contains(fetch), "report.html contains \(fetch)", sourceLocation: sourceLocation)
    }
}

@Suite struct ReportHTMLTests {
    @Test func sweepPageIsSelfContainedAndHoldsEverything() throws {
        let (folder, report) = try sweepFolder("html-sweep")
        defer { if ProcessInfo.processInfo.environment["SURGERY_TEST_OUTPUT"] == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        _ = try XMLDocumentCheck.parse(html)
        expectSelfContained(html)
        #expect(html.contains("tiny &lt;random&gt; &amp; seeded"))               // context, escaped
        #expect(html.contains(xmlEscaped(report.reading())))
        #expect(html.components(separatedBy: "<tr").count - 1 == 1 + 1 + report.rows.count)   // header, base, rows
        #expect(html.components(separatedBy: "<svg ").count - 1 == 6)
        // One clip path per plot, each used by its own plot only.
        for n in 0..<6 { #expect(html.contains("id=\"plot-\(n)\"") && html.contains("url(#plot-\(n))")) }
        #expect(!html.contains("id=\"plot\""))
    }

    @Test func sweepReadingNamesTheBestPerKVCacheBandAndTheWorst() throws {
        let (folder, report) = try sweepFolder("html-reading")
        try? FileManager.default.removeItem(atPath: folder)
        let reading = report.reading()
        #expect(reading.hasPrefix("The base model's perplexity is 12.00. With a KV cache of "))
        let worst = report.rows.max { $0.evaluation.perplexity < $1.evaluation.perplexity }!
        #expect(reading.contains("The worst, \(worst.point) "))
        // Each band's best is the lowest perplexity among the rows whose cache falls in it.
        for band in SweepReport.kvCacheBands {
            let inBand = report.rows.filter { band.contains($0.kvCacheFraction) }
            guard let best = inBand.min(by: { $0.evaluation.perplexity < $1.evaluation.perplexity }) else { continue }
            #expect(reading.contains("\(best.point) (cache"), "band \(band)")
        }
        #expect(SweepReport(base: report.base).reading() == "No configuration has finished yet. The base model's perplexity is 12.00.")
    }

    @Test func spectrumPageIsSelfContained() throws {
        let spectrum = try Spectrum(surgeon: Surgeon(base: TinyModel.weights))
        let folder = outputFolder("html-spectrum")
        try? FileManager.default.removeItem(atPath: folder)
        try spectrum.write(to: folder, context: [("model", "tiny")])
        defer { if ProcessInfo.processInfo.environment["SURGERY_TEST_OUTPUT"] == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        _ = try XMLDocumentCheck.parse(html)
        expectSelfContained(html)
        #expect(html.components(separatedBy: "<svg ").count - 1 == 4)
        #expect(html.contains("To keep 90% of the variance across the 3 layers, q needs "))
        #expect(html.contains("<th class=\"n\">0.90</th>"))
    }
}

// MARK: - In a real browser

/// Debian's chromium, if installed.
private let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

/// Width and height from a PNG's IHDR chunk (bytes 16..<24, big-endian), or nil if not a PNG.
private func pngSize(_ data: Data) -> (width: Int, height: Int)? {
    let bytes = [UInt8](data.prefix(24))
    guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
    func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}

@Suite struct ReportInABrowser {
    /// Renders `page` with headless chromium into a PNG beside it; returns the PNG's bytes.
    private func screenshot(_ page: String, width: Int, height: Int) throws -> Data {
        let png = page.replacingOccurrences(of: ".html", with: "-\(width).png")
        try? FileManager.default.removeItem(atPath: png)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
                             "--screenshot=\(png)", "--window-size=\(width),\(height)", URL(fileURLWithPath: page).absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try Data(contentsOf: URL(fileURLWithPath: png))
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (apt-get install chromium); report.html not rendered"))
    func sweepAndSpectrumPagesRender() throws {
        let (folder, _) = try sweepFolder("browser-sweep")
        let spectrumFolder = outputFolder("browser-spectrum")
        try? FileManager.default.removeItem(atPath: spectrumFolder)
        try Spectrum(surgeon: Surgeon(base: TinyModel.weights)).write(to: spectrumFolder, context: [("model", "tiny")])
        defer {
            if ProcessInfo.processInfo.environment["SURGERY_TEST_OUTPUT"] == nil {
                try? FileManager.default.removeItem(atPath: folder)
                try? FileManager.default.removeItem(atPath: spectrumFolder)
            }
        }
        for (page, width, height) in [(folder + "/report.html", 1280, 2600), (folder + "/report.html", 760, 1600),
                                      (spectrumFolder + "/report.html", 1280, 1800)] {
            let png = try screenshot(page, width: width, height: height)
            let size = try #require(pngSize(png), "\(page): not a PNG")
            #expect(size.width == width && size.height == height)
            // A blank page compresses to a few kB; text, a table and six plots do not.
            #expect(png.count > 40_000, "\(page) at \(width): a \(png.count)-byte screenshot looks empty")
        }
    }
}
