// The latent runtime against the dense one, in the same run, on SmolLM2: KV-cache bytes per token,
// prefill tokens/s over a 512-token window, decode tokens/s at contexts 128, 512, 2048 and 8192, and the
// memory a long generation adds. The latents are SmolLM2's shared K/V weight PCA (centring none) at
// ranks 288, 192 and 96: speed depends on the ranks, not on which basis chose them.
//
// Decode at context N: a cache of N positions is marked filled (its zeros stand for N − 16 earlier
// tokens, and attention's work does not depend on the values), then 16 tokens are decoded. Prefilling
// 8192 real tokens first would take minutes and measure prefill, not decode.
import Foundation
import Llama
import Surgery
import Tensor
import TestSupport

func runLatentBenchmarks() {
    let path = Fixtures.modelPath
    guard let base = try? LoadedModel(path: path).model else {
        print("latent: model not found at \(path) (run `make model`)")
        return
    }
    let surgeon = Surgeon(base: base.weights)
    var configurations: [(name: String, rank: Int?, model: Model)] = [("dense", nil, base)]
    for rank in [288, 192, 96] {
        guard let latent = latentModel(base, surgeon: surgeon, rank: rank) else {
            print("latent: the rank-\(rank) surgery failed")
            return
        }
        configurations.append(("latent r \(rank)", rank, latent))
    }

    var rng = Xoshiro256StarStar(seed: 7)
    let tokens = (0..<512).map { _ in Int(rng.next() % UInt64(base.config.vocabSize)) }
    let contexts = [128, 512, 2048, 8192].filter { $0 <= base.config.contextLength }
    let steps = 16
    print("latent vs dense runtime (SmolLM2-135M, f32; decode: median of 3 × \(steps) steps; prefill: median of 3 × 512 tokens;"
          + " peak: one child process per runtime)")
    print("  " + ["runtime", "KV bytes/token", "prefill tok/s"].joined(separator: " | ") + " | "
          + contexts.map { "decode @\($0) tok/s" }.joined(separator: " | ") + " | generation @8192: peak RSS, added")
    var denseDecode: [Double] = []
    for (name, rank, model) in configurations {
        _ = model.logits(Array(tokens.prefix(32)))                       // warm up
        let bytes = model.makeCache(capacity: 1).allocatedBytes
        let prefill = 512 / medianSeconds(runs: 3) { _ = model.logits(tokens) }
        var decode: [Double] = []
        for context in contexts {
            var cache = model.makeCache(capacity: context)
            decode.append(Double(steps) / medianSeconds(runs: 3) {
                cache.assumeFilled(context - steps)
                for step in 0..<steps { _ = model.forward([tokens[step]], cache: &cache) }
            })
        }
        if name == "dense" { denseDecode = decode }
        let (before, peak) = peakOfLongGeneration(rank: rank)
        let ratios = zip(decode, denseDecode).map { " (\(format($0 / $1, digits: 2))×)" }
        print("  " + [name, "\(bytes)", format(prefill)].joined(separator: " | ") + " | "
              + decode.indices.map { format(decode[$0]) + (name == "dense" ? "" : ratios[$0]) }.joined(separator: " | ")
              + " | \(megabytes(peak)) MB, +\(megabytes(peak - before)) MB")
    }
    let width = base.config.kvHeadCount * base.config.headDim, layers = base.config.layerCount
    for rank in [288, 192, 96] {
        let seconds = keyRebuildSeconds(positions: 8192, rank: rank, width: width)
        print("  key rebuild at 8192 positions, r \(rank): \(format(1000 * seconds, digits: 2)) ms per layer, "
              + "\(format(1000 * seconds * Double(layers), digits: 0)) ms per decode step, "
              + "\(format(2 * 8192 * Double(width * rank) / seconds / 1e9)) GFLOP/s")
    }
}

/// The key rebuild of one decode step alone, K = C B_kᵀ for S positions: what decode at context S
/// spends beyond the dense runtime, per layer. Its GFLOP/s beside the GEMM's own rate shows whether a
/// blocked rebuild (keys rebuilt and used a block of positions at a time) could gain anything: it
/// does the same multiply-adds, so it can only save memory traffic.
func keyRebuildSeconds(positions: Int, rank: Int, width: Int) -> Double {
    var rng = Xoshiro256StarStar(seed: 3)
    let c = (0..<(positions * rank)).map { _ in Float.random(in: -1..<1, using: &rng) }
    let b = (0..<(width * rank)).map { _ in Float.random(in: -1..<1, using: &rng) }
    var keys = [Float](repeating: 0, count: positions * width)
    return medianSeconds(runs: 5) {
        c.withUnsafeBufferPointer { cp in
            b.withUnsafeBufferPointer { bp in
                keys.withUnsafeMutableBufferPointer { kp in
                    gemm(m: positions, n: width, k: rank, a: cp.baseAddress!, lda: rank, b: bp.baseAddress!, ldb: rank,
                         transposeB: true, c: kp.baseAddress!, ldc: width)
                }
            }
        }
    }
}

/// SmolLM2 with K and V from the rank-r shared weight PCA (centring none), run from its latent.
private func latentModel(_ base: Model, surgeon: Surgeon, rank: Int) -> Model? {
    guard let plan = try? SurgeryPlan(targets: [.k, .v], grouping: .sharedKV, selection: .rank(rank), centring: .none),
          let latent = try? surgeon.apply(plan).latentWeights else { return nil }
    return base.replacingWeights(latent)
}

/// The peak resident memory of decoding at the model's full context (8192 positions), measured in a
/// child process per configuration (`Benchmarks latent-peak RANK`, 0 for dense) so that no other
/// configuration's freed memory counts: (resident before the cache is made, peak after), in bytes.
private func peakOfLongGeneration(rank: Int?) -> (before: Int, peak: Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["latent-peak", "\(rank ?? 0)"]
    let output = Pipe()
    process.standardOutput = output
    guard (try? process.run()) != nil else { return (0, 0) }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let numbers = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    return numbers.count == 2 ? (numbers[0], numbers[1]) : (0, 0)
}

/// The child of `peakOfLongGeneration`: loads the model (and the latent of rank `rank`), resets
/// the kernel's high-water mark (clear_refs 5), decodes 4 tokens into a full-context cache, and
/// prints the resident bytes before and the peak.
func runLatentPeak(rank: Int) {
    guard let base = try? LoadedModel(path: Fixtures.modelPath).model else { return }
    guard let model = rank == 0 ? base : latentModel(base, surgeon: Surgeon(base: base.weights), rank: rank) else { return }
    let before = residentBytes().current
    resetPeakResident()
    var cache = model.makeCache(capacity: model.config.contextLength)
    cache.assumeFilled(model.config.contextLength - 4)
    for token in 0..<4 { _ = model.forward([token], cache: &cache) }
    print(before, residentBytes().peak)
}

/// VmRSS and VmHWM of this process, in bytes (0 when /proc is unavailable).
private func residentBytes() -> (current: Int, peak: Int) {
    (procField("/proc/self/status", "VmRSS:"), procField("/proc/self/status", "VmHWM:"))
}

/// Resets VmHWM to the current resident set (Linux: writing 5 to /proc/self/clear_refs).
private func resetPeakResident() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

private func megabytes(_ bytes: Int) -> String { format(Double(bytes) / 1e6, digits: 0) }
