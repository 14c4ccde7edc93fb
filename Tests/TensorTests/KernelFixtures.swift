// Reads Tests/Fixtures/tensor/kernels.json: small random inputs and the outputs PyTorch, transformers
// and numpy computed from them (Tools/reference/tensor.py).
import Foundation
import TestSupport

struct KernelCase {
    let name: String
    let parameters: [String: Any]
    let files: [String: String]

    func floats(_ key: String) throws -> [Float] {
        guard let file = files[key] else { throw KernelFixtureError.missing(name, key) }
        return try Fixtures.floats("tensor/" + file)
    }

    func int(_ key: String) -> Int { (parameters[key] as? NSNumber)?.intValue ?? -1 }
    func float(_ key: String) -> Float { (parameters[key] as? NSNumber)?.floatValue ?? .nan }
    func ints(_ key: String) -> [Int] { (parameters[key] as? [NSNumber])?.map(\.intValue) ?? [] }

    /// Every case of one kernel ("rmsnorm", "softmax", "divergence", "silu", "swiglu", "rope", "gemm").
    static func all(_ kernel: String) throws -> [KernelCase] {
        let root = try Fixtures.json("tensor/kernels.json") as? [String: Any]
        let cases = root?["cases"] as? [[String: Any]] ?? []
        return cases.filter { $0["kernel"] as? String == kernel }.map {
            KernelCase(name: $0["name"] as? String ?? "?", parameters: $0, files: $0["files"] as? [String: String] ?? [:])
        }
    }
}

enum KernelFixtureError: Error { case missing(String, String) }

/// Elementwise |got − want| ≤ atol + rtol·|want|, ±∞ only equal to itself. Returns the first offender.
func firstMismatch(_ got: [Float], _ want: [Float], atol: Float, rtol: Float) -> String? {
    guard got.count == want.count else { return "count \(got.count), expected \(want.count)" }
    for (i, (g, w)) in zip(got, want).enumerated() {
        let ok = w.isInfinite ? g == w : abs(g - w) <= atol + rtol * abs(w)
        if !ok { return "[\(i)]: got \(g), want \(w)" }
    }
    return nil
}
