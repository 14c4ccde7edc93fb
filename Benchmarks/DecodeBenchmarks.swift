// Decode and prefill speed of SmolLM2-135M loaded from each storage dtype — the Q4_1 GGUF, an F16
// and an F32 GGUF (llama-quantize makes them once from the Q4_1), a bf16 Hugging Face folder
// (`surgery compress` writes it once) — beside llama.cpp's llama-bench on the same files in the
// same run, and each run's peak resident memory beside the file's size.
//
// Each of our loads runs in a child process (`Benchmarks decode-child PATH`) through the one public
// loader the CLI uses (`LoadedModel(path:)`), so whatever the loader does with the file's dtype is
// what is measured, and the child's peak RSS (wait4) is that load's alone. tg128 is 128 decode steps
// after a 1-token prompt (greedy, each step fed the last argmax), pp512 one 512-token window of
// random tokens; medians of 3. llama-bench: `-p 512 -n 128 -t 2 -r 3`, its mean tokens/s (avg_ts).
// Our prefill computes the logits of all 512 positions (what perplexity needs), llama-bench's of
// the last one only: 29 GFLOP of output head more for us at pp512.
// Goals (issue 11): f32 decode ≥ 1.0× llama.cpp F32, bf16 and f16 ≥ 0.9× llama.cpp F16, Q4_1 ≥ 0.8×
// llama.cpp Q4_1; `generate` on Q4_1 peaks below 2× the file's size.
import Foundation
import Llama
import Tensor
import TestSupport

/// Where Tools/build-llama-cpp.sh installs llama-bench and llama-quantize ($LLAMA_CPP_BIN overrides).
private var llamaCppBin: String {
    ProcessInfo.processInfo.environment["LLAMA_CPP_BIN"] ?? NSHomeDirectory() + "/.cache/surgery/llama.cpp/bin"
}
private let missingPeer = "missing (run Tools/build-llama-cpp.sh)"
private let cacheFolder = NSHomeDirectory() + "/.cache/surgery"

private struct DecodeSubject {
    let dtype: String
    /// The model file or folder we load (nil: it could not be made).
    let path: String?
    /// The GGUF llama-bench runs as the peer (nil: none could be made).
    let peerPath: String?
    let peerName: String
    let goal: Double
    /// What to print when `path` is nil.
    var missingReason = "not made (run Tools/build-llama-cpp.sh)"
}

/// Our figures, from one child.
private struct OurRun {
    var prefill: Double?
    var decode: Double?
    var child: ChildResult?
}

func runDecodeBenchmarks() {
    let q41 = Fixtures.modelPath
    guard FileManager.default.fileExists(atPath: q41) else {
        print("decode: model not found at \(q41) (run `make model`)")
        return
    }
    let stem = URL(fileURLWithPath: q41).deletingPathExtension().lastPathComponent
        .replacingOccurrences(of: ".Q4_1", with: "")
    let f16 = requantized(q41, to: "F16", as: "\(cacheFolder)/\(stem).F16.gguf")
    let f32 = requantized(q41, to: "F32", as: "\(cacheFolder)/\(stem).F32.gguf")
    let bf16 = bf16Folder(of: q41, at: "\(cacheFolder)/\(stem).bf16")
    let subjects = [
        DecodeSubject(dtype: "Q4_1", path: q41, peerPath: q41, peerName: "Q4_1", goal: 0.8),
        DecodeSubject(dtype: "F16", path: f16, peerPath: f16, peerName: "F16", goal: 0.9),
        DecodeSubject(dtype: "bf16 (HF folder)", path: bf16, peerPath: f16, peerName: "F16", goal: 0.9,
                      missingReason: "not made (see above)"),
        DecodeSubject(dtype: "F32", path: f32, peerPath: f32, peerName: "F32", goal: 1.0),
    ]

    var peers: [String: (prefill: Double, decode: Double, peak: Int)?] = [:]
    var rows: [(DecodeSubject, OurRun, (prefill: Double, decode: Double, peak: Int)?, ChildResult?)] = []
    for subject in subjects {
        var ours = OurRun()
        var generate: ChildResult?
        if let path = subject.path {
            let child = runChild(benchmarksExecutable, ["decode-child", path])
            let numbers = child.stdout.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
            if child.succeeded, numbers.count == 2 { (ours.prefill, ours.decode) = (numbers[0], numbers[1]) }
            ours.child = child
            if let surgery = surgeryExecutable {
                generate = runChild(surgery, ["generate", path, "--prompt", "The capital of France is",
                                              "--max-tokens", "128", "--quiet"])
            }
        }
        if let peerPath = subject.peerPath, peers[peerPath] == nil {
            peers[peerPath] = llamaBench(peerPath)
        }
        rows.append((subject, ours, subject.peerPath.flatMap { peers[$0] ?? nil }, generate))
    }

    print("decode (SmolLM2-135M by storage dtype; ours: `LoadedModel(path:)` in a child process, 2 threads; "
          + "llama.cpp: llama-bench -p 512 -n 128 -t 2 -r 3; tg128 after a 1-token prompt and pp512, medians of 3)")
    print("  dtype | our pp512 tok/s | llama.cpp pp512 | ratio | our tg128 tok/s | llama.cpp tg128 | ratio | decode goal")
    for (subject, ours, peer, _) in rows {
        func cell(_ value: Double?) -> String { value.map { format($0) } ?? "—" }
        func ratio(_ a: Double?, _ b: Double?) -> String {
            guard let a, let b, b > 0 else { return "—" }
            return format(a / b, digits: 2) + "×"
        }
        let peerName = "llama.cpp \(subject.peerName)"
        let goal: String
        if let decode = ours.decode, let peer {
            let met = decode / peer.decode >= subject.goal
            goal = "≥ \(format(subject.goal, digits: 1))× \(peerName): \(met ? "met" : "not met")"
        } else {
            goal = "≥ \(format(subject.goal, digits: 1))× \(peerName)"
        }
        let ourPrefill = subject.path == nil ? subject.missingReason : ours.prefill.map { format($0) }
            ?? "failed (\(ours.child?.endingDescription ?? "?"))"
        let peerPrefill = peer.map { format($0.prefill) } ?? (subject.peerPath == nil ? missingPeer : peerMissingReason)
        let peerDecode = peer.map { format($0.decode) } ?? "—"
        print("  " + [subject.dtype, ourPrefill, peerPrefill, ratio(ours.prefill, peer?.prefill),
                      cell(ours.decode), peerDecode, ratio(ours.decode, peer?.decode), goal].joined(separator: " | "))
    }

    print("  peak resident memory (wait4 ru_maxrss of each child) beside the file's size; goal: `generate` on Q4_1 below 2× the file")
    print("  dtype | file MB | benchmark child peak MB (× file) | `surgery generate` 128 tokens peak MB (× file) | llama-bench peak MB")
    for (subject, ours, peer, generate) in rows {
        guard let path = subject.path else {
            print("  \(subject.dtype) | — | \(subject.missingReason) | — | —")
            continue
        }
        let bytes = fileOrFolderBytes(path)
        func peakCell(_ child: ChildResult?) -> String {
            guard let child else { return surgeryExecutable == nil ? "no surgery binary (swift build first)" : "—" }
            guard child.succeeded else { return "failed (\(child.endingDescription))" }
            return "\(megabytes(child.peakResidentBytes)) (\(format(Double(child.peakResidentBytes) / Double(max(bytes, 1)), digits: 2))×)"
        }
        var generateCell = peakCell(generate)
        if subject.dtype == "Q4_1", let generate, generate.succeeded {
            generateCell += generate.peakResidentBytes < 2 * bytes ? " goal met" : " goal not met"
        }
        print("  " + [subject.dtype, megabytes(bytes), peakCell(ours.child), generateCell,
                      peer.map { megabytes($0.peak) } ?? "—"].joined(separator: " | "))
    }
}

/// The child of the decode area: loads `path` as the CLI does, warms up, and prints
/// "prefill-tok/s decode-tok/s".
func runDecodeChild(path: String) {
    guard let model = try? LoadedModel(path: path).model else {
        FileHandle.standardError.write(Data("decode-child: cannot load \(path)\n".utf8))
        exit(1)
    }
    let window = 512, steps = 128
    var rng = Xoshiro256StarStar(seed: 7)
    let tokens = (0..<window).map { _ in Int(rng.next() % UInt64(model.config.vocabSize)) }
    _ = model.logits(Array(tokens.prefix(64)))                  // warm up
    let prefill = medianSeconds(runs: 3) { _ = model.logits(tokens) }
    var decodeTimes: [Double] = []
    // As `generate` runs: the workers kept awake between steps (ParallelFor.swift).
    keepingWorkersAwake { for _ in 0..<3 {
        var cache = model.makeCache(capacity: steps + 1)
        var logits = model.forward([tokens[0]], cache: &cache)  // the 1-token prompt
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps {
            let token = logits.scalars.withUnsafeBufferPointer { argmax($0) }
            logits = model.forward([token], cache: &cache)
        }
        decodeTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    } }
    print(Double(window) / prefill, Double(steps) / median(decodeTimes))
}

// MARK: - The files

/// `in` re-encoded by llama-quantize to `type` (F16, F32) at `out`, made once; nil without llama-quantize.
private func requantized(_ input: String, to type: String, as output: String) -> String? {
    if FileManager.default.fileExists(atPath: output) { return output }
    let quantize = llamaCppBin + "/llama-quantize"
    guard FileManager.default.isExecutableFile(atPath: quantize) else { return nil }
    let partial = output + ".partial"
    let child = runChild(quantize, ["--allow-requantize", input, partial, type])
    guard child.succeeded, (try? FileManager.default.moveItem(atPath: partial, toPath: output)) != nil else {
        try? FileManager.default.removeItem(atPath: partial)
        print("decode: llama-quantize \(type) failed (\(child.endingDescription)): \(child.stderr.suffix(300))")
        return nil
    }
    return output
}

/// A bf16 Hugging Face folder of `model` at `folder`, made once with `surgery compress`. The CLI has
/// no plain conversion, so it is the one surgery that changes nothing: q through a full-rank PCA
/// (100% variance reconstructs the input, up to Float rounding before bf16 rounding).
private func bf16Folder(of model: String, at folder: String) -> String? {
    if FileManager.default.fileExists(atPath: folder + "/config.json") { return folder }
    guard let surgery = surgeryExecutable else {
        print("decode: no surgery binary beside this one (swift build first); no bf16 folder")
        return nil
    }
    let child = runChild(surgery, ["compress", model, "--targets", "q", "--mode", "separate", "--variance", "1.0", "--dtype", "bf16",
                                   "--out", folder, "--quiet"])
    guard child.succeeded else {
        print("decode: surgery compress failed (\(child.endingDescription)): \(child.stderr.suffix(300))")
        return nil
    }
    return folder
}

// MARK: - The peer

private var peerMissingReason: String {
    FileManager.default.isExecutableFile(atPath: llamaCppBin + "/llama-bench") ? "failed" : missingPeer
}

/// llama-bench's pp512 and tg128 mean tokens/s on `gguf`, and its peak RSS; nil when absent or failed.
private func llamaBench(_ gguf: String) -> (prefill: Double, decode: Double, peak: Int)? {
    let bench = llamaCppBin + "/llama-bench"
    guard FileManager.default.isExecutableFile(atPath: bench) else { return nil }
    let child = runChild(bench, ["-m", gguf, "-p", "512", "-n", "128", "-t", "2", "-r", "3", "-o", "json"])
    guard child.succeeded,
          let tests = try? JSONSerialization.jsonObject(with: Data(child.stdout.utf8)) as? [[String: Any]] else {
        print("decode: llama-bench failed on \(gguf) (\(child.endingDescription)): \(child.stderr.suffix(300))")
        return nil
    }
    func speed(prompt: Int, generated: Int) -> Double? {
        tests.first { ($0["n_prompt"] as? Int) == prompt && ($0["n_gen"] as? Int) == generated }?["avg_ts"] as? Double
    }
    guard let prefill = speed(prompt: 512, generated: 0), let decode = speed(prompt: 0, generated: 128) else { return nil }
    return (prefill, decode, child.peakResidentBytes)
}

private func megabytes(_ bytes: Int) -> String { format(Double(bytes) / 1e6, digits: 0) }
