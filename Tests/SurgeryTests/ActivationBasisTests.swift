// The activation basis against Tools/reference/activations.py (transformers forward hooks for the
// statistics, numpy.linalg.eigh for the factors), and its own invariants.
import Foundation
import Testing
import Linalg
import Llama
import Tensor
import TestSupport
import Surgery

/// Tests/Fixtures/tiny/f32 (2 layers, D 64, k/v 32 × 64) and what the reference recorded for it.
private enum TinyReference {
    static let model: Model = {
        do { return try Model(checkpoint: Checkpoint.open(Fixtures.path("tiny/f32"))) } catch { fatalError("\(error)") }
    }()
    static func manifest() throws -> [String: Any] { try Fixtures.json("activations/tiny.json") as? [String: Any] ?? [:] }

    static func windows() throws -> [[Int]] {
        let ids = try Fixtures.int32s("activations/tiny/tokens.i32").map(Int.init)
        return stride(from: 0, to: ids.count, by: 48).map { Array(ids[$0..<($0 + 48)]) }
    }

    static func doubles(_ relative: String) throws -> [Double] {
        let bytes = try Fixtures.data(relative)
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian) }
        }
    }

    /// The reference's own C (so a factor check does not inherit the statistics' rounding).
    static func referenceStatistics() throws -> ActivationStatistics {
        let moments = try (0..<2).map { try doubles("activations/tiny/C\($0).f64") }
        return ActivationStatistics(width: 64, tokenCount: 4 * 48, moments: moments)
    }
}

private func relativeFrobenius(_ a: [Double], _ b: [Double]) -> Double {
    let diff = zip(a, b).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    let norm = b.reduce(0.0) { $0 + $1 * $1 }
    return (diff / norm).squareRoot()
}

@Suite("ActivationBasis")
struct ActivationBasisTests {
    /// C from our forward pass and observer vs C from transformers hooks on the same tokens.
    /// Tolerance 1e-6 relative Frobenius: both sum float32 activations of the same network; ours
    /// computes x in another order (≈1e-7 relative per element) and forms chunk sums in Float.
    @Test func statisticsMatchTransformers() throws {
        let measured = ActivationStatistics.measure(TinyReference.model, windows: try TinyReference.windows())
        #expect(measured.tokenCount == 4 * 48)
        for layer in 0..<2 {
            let expected = try TinyReference.doubles("activations/tiny/C\(layer).f64")
            let error = relativeFrobenius(measured.moment(layer: layer), expected)
            #expect(error <= 1e-6, "layer \(layer): C relative error \(error)")
        }
    }

    /// Ŵ for every recorded group and rank vs numpy's eigh factors, from the reference's C.
    /// Tolerance 1e-4 relative Frobenius (the bound): Float weights and a Float result;
    /// the eigenvectors agree to ~1e-12 where the spectrum has gaps.
    @Test func reconstructionsMatchNumpy() throws {
        let surgeon = Surgeon(base: TinyReference.model.weights, calibration: try TinyReference.referenceStatistics())
        let entries = try TinyReference.manifest()["reconstructions"] as? [[String: Any]] ?? []
        #expect(entries.count >= 20)
        for entry in entries {
            let layer = entry["layer"] as! Int, group = entry["group"] as! String, rank = entry["rank"] as! Int
            let expected = try Fixtures.floats("activations/tiny/" + (entry["file"] as! String)).map(Double.init)
            let (grouping, targets, balanced): (Grouping, [SurgeryTarget], Bool) = switch group {
            case "kv": (.sharedKV, [.k, .v], false)
            case "kv_balanced": (.sharedKV, [.k, .v], true)
            default: (.separate, [SurgeryTarget(rawValue: group)!], false)
            }
            let plan = try SurgeryPlan(targets: targets, grouping: grouping, selection: .rank(rank), centring: .none,
                                       basis: .activations(balanced: balanced))
            let result = try surgeon.apply(plan)
            let ours = targets.flatMap { result.weights.layers[layer][$0.tensor].scalars.map(Double.init) }
            let error = relativeFrobenius(ours, expected)
            #expect(error <= 1e-4, "layer \(layer) \(group) rank \(rank): relative error \(error)")
            let kept = result.statistics.first { $0.matrix.layer == layer }!.varianceExplained
            #expect(abs(kept - (entry["energy_kept"] as! Double)) <= 1e-9, "\(group) r \(rank): energy \(kept)")
        }
    }

    /// From our own statistics end to end: the same reconstructions within the same 1e-4.
    @Test func endToEndFromOurStatistics() throws {
        let measured = ActivationStatistics.measure(TinyReference.model, windows: try TinyReference.windows())
        let surgeon = Surgeon(base: TinyReference.model.weights, calibration: measured)
        let plan = try SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(16), centring: .none,
                                   basis: .activations(balanced: false))
        let result = try surgeon.apply(plan)
        for layer in 0..<2 {
            let expected = try Fixtures.floats("activations/tiny/L\(layer)_kv_r16.f32").map(Double.init)
            let ours = [SurgeryTarget.k, .v].flatMap { result.weights.layers[layer][$0.tensor].scalars.map(Double.init) }
            #expect(relativeFrobenius(ours, expected) <= 1e-4)
        }
    }

    /// Invariants: the full rank is the identity; the output error is the dropped eigenvalues
    /// (1 − energy kept = Σ_{i>r} λ_i / Σ λ_i, checked through each member's output energy).
    @Test func invariants() throws {
        let statistics = try TinyReference.referenceStatistics()
        let surgeon = Surgeon(base: TinyReference.model.weights, calibration: statistics)
        let full = try surgeon.apply(SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(64),
                                                 centring: .none, basis: .activations(balanced: true)))
        for layer in 0..<2 {
            for target in [SurgeryTarget.k, .v] {
                let a = full.weights.layers[layer][target.tensor].scalars.map(Double.init)
                let b = TinyReference.model.weights.layers[layer][target.tensor].scalars.map(Double.init)
                #expect(relativeFrobenius(a, b) <= 1e-5)                 // Float rounding of U Uᵀ W
            }
        }
        #expect(full.statistics.allSatisfy { abs($0.outputEnergyKept! - 1) <= 1e-9 })
        // Separate k at rank r: its own output energy kept equals the group's kept eigenvalue share.
        let k8 = try surgeon.apply(SurgeryPlan(targets: [.k], grouping: .separate, selection: .rank(8),
                                               centring: .none, basis: .activations(balanced: false)))
        for s in k8.statistics {
            #expect(abs(s.outputEnergyKept! - s.varianceExplained) <= 1e-6, "\(s.matrix): \(s.outputEnergyKept!) vs \(s.varianceExplained)")
        }
        #expect(abs(k8.kvCacheFraction - Double(8 + 32) / 64) <= 1e-12)
    }

    @Test func cacheRoundTrip() throws {
        let statistics = try TinyReference.referenceStatistics()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("surgery-stats-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("stats").path
        try statistics.write(to: path, key: "k1")
        #expect(ActivationStatistics.cached(at: path, key: "k1") == statistics)
        #expect(ActivationStatistics.cached(at: path, key: "other") == nil)
        var damaged = try Data(contentsOf: URL(fileURLWithPath: path))
        damaged.removeLast(8)
        try damaged.write(to: URL(fileURLWithPath: path))
        #expect(ActivationStatistics.cached(at: path, key: "k1") == nil)
    }

    @Test func planRefusals() throws {
        let act = Basis.activations(balanced: false)
        #expect(throws: SurgeryError.centringWithActivations("seed")) {
            try SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(8), centring: .seed, basis: act)
        }
        #expect(throws: SurgeryError.activationsAcrossLayers) {
            try SurgeryPlan(targets: [.k, .v], grouping: .sharedKVLayers(groupSize: nil), selection: .rank(8), centring: .none, basis: act)
        }
        #expect(throws: SurgeryError.activationsOutsideAttentionInput("o")) {
            try SurgeryPlan(targets: [.k, .o], grouping: .separate, selection: .rank(8), centring: .none, basis: act)
        }
        #expect(throws: SurgeryError.balanceNeedsSharedKV(mode: "separate")) {
            try SurgeryPlan(targets: [.k, .v], grouping: .separate, selection: .rank(8), centring: .none,
                            basis: .activations(balanced: true))
        }
        let plan = try SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(8), centring: .none, basis: act)
        #expect(throws: SurgeryError.needsCalibration) { try Surgeon(base: TinyReference.model.weights).apply(plan) }
    }
}
