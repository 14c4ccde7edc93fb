// Writing reports: number formatting without Foundation's locale machinery, CSV/JSON/XML escaping,
// and files that appear whole or not at all (written to a temporary name in the same folder, then
// renamed over the destination — `rename(2)` is atomic within one file system).
import FoundationEssentials
import Llama
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

// MARK: - Numbers

/// `x` with exactly `places` decimals (round half away from zero): `fixed(3.14159, 2)` = "3.14".
/// Non-finite values print as "inf", "-inf", "nan".
package func fixed(_ x: Double, _ places: Int) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (abs(x) * scale).rounded()
    guard scaled < 9e18 else { return "\(x)" }                  // beyond Int64: the shortest form
    let n = Int64(scaled)
    let negative = x < 0 && n != 0
    var digits = String(n)
    if places > 0 {
        if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -places))
    }
    return negative ? "-" + digits : digits
}

/// 134515008 → "134,515,008".
package func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return value < 0 ? "-" + out : out
}

/// `x` with `digits` significant digits in plain decimal notation for 1e-4 ≤ |x| < 1e6, else in
/// scientific notation ("3.20e-05").
package func significant(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return fixed(x, 0) }
    if x == 0 { return fixed(0, max(0, digits - 1)) }
    let magnitude = Int((log10(abs(x))).rounded(.down))
    if magnitude >= -4 && magnitude < 6 {
        return fixed(x, max(0, digits - 1 - magnitude))
    }
    var mantissa = x / pow(10, Double(magnitude))
    var exponent = magnitude
    if abs(Double(fixed(mantissa, digits - 1)) ?? mantissa) >= 10 { mantissa /= 10; exponent += 1 }
    return fixed(mantissa, digits - 1) + "e" + (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
}

/// The shortest text that reads back as the same Double (Swift's `description`), for CSV and JSON.
package func exact(_ x: Double) -> String { "\(x)" }

// MARK: - Escaping

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
package func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\""
}

/// A JSON string literal.
package func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// A JSON number; JSON has no NaN or infinity, so those are `null`.
package func jsonNumber(_ x: Double?) -> String {
    guard let x, x.isFinite else { return "null" }
    return exact(x)
}

/// Text for an SVG element or attribute.
package func xmlEscaped(_ s: String) -> String {
    s.map { c -> String in
        switch c {
        case "&": "&amp;"
        case "<": "&lt;"
        case ">": "&gt;"
        case "\"": "&quot;"
        default: String(c)
        }
    }.joined()
}

// MARK: - Whole files

/// Writes `text` to `path` whole: into `.<name>.partial-<pid>` beside it, then renamed over `path`.
/// A reader sees the old file or the new one, never a part.
public func writeWholeFile(_ text: String, to path: String) throws(SurgeryError) {
    try writeWholeFile(Data(text.utf8), to: path)
}

/// Writes `data` to `path` whole, as `writeWholeFile(_:to:)` does text.
package func writeWholeFile(_ data: Data, to path: String) throws(SurgeryError) {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let temporary = folder + "/." + url.lastPathComponent + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
    do {
        try data.write(to: URL(fileURLWithPath: temporary))
    } catch {
        throw .cannotWrite(path: path, reason: errorReason(error))
    }
    guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        _ = unlink(temporary)
        throw .cannotWrite(path: path, reason: reason)
    }
}

/// Creates `path` (and its parents) as a folder if it does not exist.
package func makeFolder(_ path: String) throws(SurgeryError) {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw .cannotWrite(path: path, reason: errorReason(error))
    }
}
