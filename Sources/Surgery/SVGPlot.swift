// A line chart as a standalone SVG document, written from scratch: linear or logarithmic axes with
// "nice" ticks (1, 2, 5 × 10ᵏ), grid, axis labels, a title, a legend beside the plot, optional
// dashed reference lines. Enough for the sweep and spectrum figures, and nothing more.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

package struct SVGPlot {
    package enum Scale { case linear, log }

    struct Series {
        /// nil: drawn but not listed in the legend.
        var label: String?
        var points: [(x: Double, y: Double)]
        var color: String
        var dashed = false
        var markers = true
        var lineWidth = 2.0
    }

    /// A dashed line across the plot at a fixed value: horizontal at y (e.g. the base model's
    /// perplexity) or vertical at x when `vertical` (e.g. factored size = dense size).
    struct ReferenceLine {
        var y: Double
        var label: String
        var color = "#555555"
        var vertical = false

        init(y: Double, label: String, color: String = "#555555") {
            self.y = y
            self.label = label
            self.color = color
        }

        init(x: Double, label: String, color: String = "#555555") {
            self.init(y: x, label: label, color: color)
            vertical = true
        }
    }

    var title: String
    var subtitle: String? = nil
    var xLabel: String
    var yLabel: String
    var xScale: Scale = .linear
    var yScale: Scale = .linear
    /// Fixed axis ranges; nil fits the data.
    var xRange: ClosedRange<Double>? = nil
    var yRange: ClosedRange<Double>? = nil
    var series: [Series] = []
    var referenceLines: [ReferenceLine] = []
    var width = 820.0
    var height = 480.0

    /// Colour-blind-safe palette (Okabe & Ito, 2008), then a few darker extras.
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
                          "#F0E442", "#8C564B", "#7F7F7F"]

    /// A colour between dark blue (t = 0) and yellow (t = 1) through teal and green, viridis-like,
    /// for a family of curves such as one per layer.
    static func gradient(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let u = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(u), stops.count - 2), f = u - Double(i)
        func channel(_ a: Double, _ b: Double) -> String {
            let v = Int((a + (b - a) * f).rounded())
            let hex = String(v, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        let (a, b) = (stops[i], stops[i + 1])
        return "#" + channel(a.0, b.0) + channel(a.1, b.1) + channel(a.2, b.2)
    }

    // MARK: - Axes

    /// An axis: the data range widened to ticks, and the map from data to pixels.
    package struct Axis {
        let scale: Scale
        package let low: Double, high: Double   // in data units
        package let ticks: [(value: Double, label: String?)]
        let pixelLow: Double, pixelHigh: Double

        package func pixel(_ v: Double) -> Double {
            let (a, b, x) = scale == .log ? (log10(low), log10(high), log10(v)) : (low, high, v)
            return pixelLow + (x - a) / (b - a) * (pixelHigh - pixelLow)
        }
    }

    package static func axis(_ scale: Scale, data: [Double], range: ClosedRange<Double>?, pixels: (Double, Double)) -> Axis {
        var values = data.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        if let range { values = [range.lowerBound, range.upperBound] }
        var low = values.min() ?? (scale == .log ? 1 : 0)
        var high = values.max() ?? (scale == .log ? 10 : 1)
        switch scale {
        case .linear:
            if high - low < 1e-12 * max(1, abs(high)) { low -= 0.5 * max(1e-3, abs(low)); high += 0.5 * max(1e-3, abs(high)) }
            let step = niceStep((high - low) / 6)
            if range == nil {
                low = (low / step).rounded(.down) * step
                high = (high / step).rounded(.up) * step
            }
            let places = max(0, -Int(log10(step).rounded(.down)))
            var ticks: [(Double, String?)] = []
            var v = (low / step).rounded(.up) * step
            while v <= high + step * 1e-9 {
                ticks.append((v, fixed(abs(v) < step * 1e-9 ? 0 : v, places)))
                v += step
            }
            return Axis(scale: scale, low: low, high: high, ticks: ticks, pixelLow: pixels.0, pixelHigh: pixels.1)
        case .log:
            var a = log10(low).rounded(.down), b = log10(high).rounded(.up)
            if b <= a { b = a + 1 }
            if range != nil { a = log10(low); b = log10(high) }
            low = pow(10, a); high = pow(10, b)
            let decades = b - a
            var ticks: [(Double, String?)] = []
            var k = a.rounded(.down)
            while k <= b.rounded(.up) {
                for m in 1...9 {
                    let v = Double(m) * pow(10, k)
                    guard v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9) else { continue }
                    let labelled = m == 1 || (decades <= 2 && (m == 2 || m == 5)) || (decades < 1.2 && m != 1)
                    if !labelled && decades > 4 { continue }           // minor lines only where they help
                    ticks.append((v, labelled ? logLabel(v) : nil))
                }
                k += 1
            }
            return Axis(scale: scale, low: low, high: high, ticks: ticks, pixelLow: pixels.0, pixelHigh: pixels.1)
        }
    }

    /// The 1, 2 or 5 × 10ᵏ step nearest above `raw`.
    package static func niceStep(_ raw: Double) -> Double {
        let power = pow(10, log10(raw).rounded(.down))
        let fraction = raw / power
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
    }

    /// 0.01, 0.5, 1, 20, 1000; 1e-05 beyond the plain range.
    static func logLabel(_ v: Double) -> String { significant(v, 1) }

    // MARK: - Rendering

    func render() -> String {
        let left = 78.0, right = 200.0, top = subtitle == nil ? 46.0 : 64.0, bottom = 58.0
        let plotRight = width - right, plotBottom = height - bottom
        let horizontal = referenceLines.filter { !$0.vertical }, vertical = referenceLines.filter(\.vertical)
        let x = Self.axis(xScale, data: series.flatMap { $0.points.map(\.x) } + vertical.map(\.y), range: xRange, pixels: (left, plotRight))
        let y = Self.axis(yScale, data: series.flatMap { $0.points.map(\.y) } + horizontal.map(\.y),
                          range: yRange, pixels: (plotBottom, top))
        func p(_ v: Double) -> String { fixed(v, 1) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(p(width))" height="\(p(height))" viewBox="0 0 \(p(width)) \(p(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(p(left))" y="24" font-size="16" font-weight="bold">\(xmlEscaped(title))</text>

        """
        if let subtitle { svg += "<text x=\"\(p(left))\" y=\"44\" fill=\"#444444\">\(xmlEscaped(subtitle))</text>\n" }

        // Grid and ticks.
        svg += "<g stroke-width=\"1\">\n"
        for (value, label) in x.ticks {
            let px = x.pixel(value)
            svg += "<line x1=\"\(p(px))\" y1=\"\(p(top))\" x2=\"\(p(px))\" y2=\"\(p(plotBottom))\" stroke=\"\(label == nil ? "#f2f2f2" : "#e0e0e0")\"/>\n"
            if let label {
                svg += "<line x1=\"\(p(px))\" y1=\"\(p(plotBottom))\" x2=\"\(p(px))\" y2=\"\(p(plotBottom + 5))\" stroke=\"#333333\"/>\n"
                svg += "<text x=\"\(p(px))\" y=\"\(p(plotBottom + 19))\" text-anchor=\"middle\" stroke=\"none\">\(label)</text>\n"
            }
        }
        for (value, label) in y.ticks {
            let py = y.pixel(value)
            svg += "<line x1=\"\(p(left))\" y1=\"\(p(py))\" x2=\"\(p(plotRight))\" y2=\"\(p(py))\" stroke=\"\(label == nil ? "#f2f2f2" : "#e0e0e0")\"/>\n"
            if let label {
                svg += "<line x1=\"\(p(left - 5))\" y1=\"\(p(py))\" x2=\"\(p(left))\" y2=\"\(p(py))\" stroke=\"#333333\"/>\n"
                svg += "<text x=\"\(p(left - 8))\" y=\"\(p(py + 4))\" text-anchor=\"end\" stroke=\"none\">\(label)</text>\n"
            }
        }
        svg += "</g>\n"
        svg += "<rect x=\"\(p(left))\" y=\"\(p(top))\" width=\"\(p(plotRight - left))\" height=\"\(p(plotBottom - top))\" fill=\"none\" stroke=\"#333333\"/>\n"
        svg += "<text x=\"\(p((left + plotRight) / 2))\" y=\"\(p(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(xmlEscaped(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(p((top + plotBottom) / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(xmlEscaped(yLabel))</text>\n"

        // Data, clipped to the plot area.
        svg += "<clipPath id=\"plot\"><rect x=\"\(p(left))\" y=\"\(p(top))\" width=\"\(p(plotRight - left))\" height=\"\(p(plotBottom - top))\"/></clipPath>\n"
        svg += "<g clip-path=\"url(#plot)\" fill=\"none\">\n"
        for line in horizontal where line.y.isFinite && (yScale == .linear || line.y > 0) {
            let py = y.pixel(line.y)
            svg += "<line x1=\"\(p(left))\" y1=\"\(p(py))\" x2=\"\(p(plotRight))\" y2=\"\(p(py))\" stroke=\"\(line.color)\" stroke-dasharray=\"6 4\" stroke-width=\"1.5\"/>\n"
        }
        for line in vertical where line.y.isFinite && (xScale == .linear || line.y > 0) {
            let px = x.pixel(line.y)
            svg += "<line x1=\"\(p(px))\" y1=\"\(p(top))\" x2=\"\(p(px))\" y2=\"\(p(plotBottom))\" stroke=\"\(line.color)\" stroke-dasharray=\"6 4\" stroke-width=\"1.5\"/>\n"
        }
        for s in series {
            // A point that cannot be drawn (non-finite, or ≤ 0 on a log axis) breaks the line.
            var runs: [[(Double, Double)]] = [[]]
            for point in s.points.sorted(by: { $0.x < $1.x }) {
                let ok = point.x.isFinite && point.y.isFinite && (xScale == .linear || point.x > 0) && (yScale == .linear || point.y > 0)
                if ok { runs[runs.count - 1].append((x.pixel(point.x), y.pixel(point.y))) } else if !runs.last!.isEmpty { runs.append([]) }
            }
            let dash = s.dashed ? " stroke-dasharray=\"7 4\"" : ""
            for run in runs where run.count > 1 {
                svg += "<polyline points=\"\(run.map { "\(p($0.0)),\(p($0.1))" }.joined(separator: " "))\" stroke=\"\(s.color)\" stroke-width=\"\(p(s.lineWidth))\" stroke-linejoin=\"round\"\(dash)/>\n"
            }
            if s.markers {
                for run in runs { for (px, py) in run {
                    svg += "<circle cx=\"\(p(px))\" cy=\"\(p(py))\" r=\"3.5\" fill=\"\(s.color)\" stroke=\"white\" stroke-width=\"1\"/>\n"
                } }
            }
        }
        svg += "</g>\n"
        for line in horizontal where line.y.isFinite && (yScale == .linear || line.y > 0) {
            // At the left end: sweeps and spectra put their interesting points at the right.
            svg += "<text x=\"\(p(left + 6))\" y=\"\(p(y.pixel(line.y) - 6))\" fill=\"\(line.color)\">\(xmlEscaped(line.label))</text>\n"
        }
        for line in vertical where line.y.isFinite && (xScale == .linear || line.y > 0) {
            svg += "<text transform=\"translate(\(p(x.pixel(line.y) + 14)) \(p(top + 8))) rotate(-90)\" text-anchor=\"end\" fill=\"\(line.color)\">\(xmlEscaped(line.label))</text>\n"
        }

        // Legend, to the right of the plot.
        var ly = top + 8
        for s in series {
            guard let label = s.label else { continue }
            let dash = s.dashed ? " stroke-dasharray=\"7 4\"" : ""
            svg += "<line x1=\"\(p(plotRight + 16))\" y1=\"\(p(ly))\" x2=\"\(p(plotRight + 44))\" y2=\"\(p(ly))\" stroke=\"\(s.color)\" stroke-width=\"\(p(s.lineWidth + 0.5))\"\(dash)/>\n"
            if s.markers { svg += "<circle cx=\"\(p(plotRight + 30))\" cy=\"\(p(ly))\" r=\"3.5\" fill=\"\(s.color)\"/>\n" }
            svg += "<text x=\"\(p(plotRight + 52))\" y=\"\(p(ly + 4))\">\(xmlEscaped(label))</text>\n"
            ly += 20
        }
        svg += "</svg>\n"
        return svg
    }
}
