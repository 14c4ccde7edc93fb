// Forward-pass speed on the real model: prefill tokens/s over 512-token windows (what perplexity
// does) for SmolLM2-135M loaded from each storage dtype present — the Q4_1 GGUF, the F16 and F32
// GGUFs and the bf16 Hugging Face folder that the decode area makes once in ~/.cache/surgery —
// beside one PyTorch figure (transformers, the Q4_1 GGUF dequantized to float32, 2 threads) measured
// in the same run; and decode tokens/s on the Q4_1 file. Weights stay in the file's dtype and are
// decoded inside the kernels (WeightGEMM.swift), so each dtype is its own measurement.
// Goal (issue 11): prefill ≥ 1.2× PyTorch float32 for every dtype.
import Foundation
import Llama
import Tensor
import TestSupport

/// The model files the forward area measures, by dtype (the names DecodeBenchmarks gives them).
private func prefillSubjects() -> [(dtype: String, path: String)] {
    let q41 = Fixtures.modelPath
    let stem = URL(fileURLWithPath: q41).deletingPathExtension().lastPathComponent
        .replacingOccurrences(of: ".Q4_1", with: "")
    let cache = NSHomeDirectory() + "/.cache/surgery"
    return [("Q4_1", q41), ("F16", "\(cache)/\(stem).F16.gguf"), ("F32", "\(cache)/\(stem).F32.gguf"),
            ("bf16 (HF folder)", "\(cache)/\(stem).bf16")]
}

/// The prefill goal against PyTorch float32.
private let prefillGoal = 1.2

func runForwardBenchmarks() {
    let window = 512, runs = 5
    guard let vocabulary = try? LoadedModel(path: Fixtures.modelPath).model.config.vocabSize else {
        print("forward: model not found at \(Fixtures.modelPath) (run `make model`)")
        return
    }
    var rng = Xoshiro256StarStar(seed: 7)
    let tokens = (0..<window).map { _ in Int(rng.next() % UInt64(vocabulary)) }

    print("forward (SmolLM2-135M, weights in the file's dtype; prefill of one \(window)-token window of random tokens "
          + "with all \(window) rows of logits, as perplexity does, into a reused buffer; medians of \(runs))")
    var ours: [(dtype: String, tokensPerSecond: Double?)] = []
    for subject in prefillSubjects() {
        guard FileManager.default.fileExists(atPath: subject.path) else {
            print("  \(subject.dtype): missing (\(subject.path); `Benchmarks decode` makes it)")
            ours.append((subject.dtype, nil))
            continue
        }
        guard let model = try? LoadedModel(path: subject.path).model else {
            print("  \(subject.dtype): cannot load \(subject.path)")
            ours.append((subject.dtype, nil))
            continue
        }
        var logits = Tensor(shape: [0], scalars: [])
        model.logits(Array(tokens.prefix(64)), into: &logits)          // warm up
        model.logits(tokens, into: &logits)                             // and size the buffer
        let seconds = medianSeconds(runs: runs) { model.logits(tokens, into: &logits) }
        ours.append((subject.dtype, Double(window) / seconds))
        print("  \(subject.dtype) prefill: \(format(Double(window) / seconds)) tokens/s")
        if subject.dtype == "Q4_1" {
            let steps = 128
            let decode = keepingWorkersAwake { medianSeconds(runs: 3) {
                var cache = model.makeCache(capacity: steps + 1)
                var token = tokens[0]
                for _ in 0..<steps {
                    let logits = model.forward([token], cache: &cache)
                    token = logits.scalars.withUnsafeBufferPointer { argmax($0) }
                }
            } }                                                  // workers awake, as in `generate`
            print("  Q4_1 decode: \(format(Double(steps) / decode)) tokens/s (median of 3 × \(steps) steps)")
        }
    }

    let script = """
    import time, statistics, sys, os, torch
    torch.set_num_threads(2)
    from transformers import AutoModelForCausalLM
    path = sys.argv[1]
    m = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32).eval()
    ids = torch.randint(0, m.config.vocab_size, (1, 512), generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        m(ids[:, :64])
        times = []
        for _ in range(\(runs)):
            t = time.perf_counter(); m(ids); times.append(time.perf_counter() - t)
    print(512 / statistics.median(times))
    """
    guard let output = runPython(script, arguments: [Fixtures.modelPath]),
          let theirs = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        print("  PyTorch: not installed (or failed); no ratio")
        return
    }
    print("  PyTorch float32 prefill (the Q4_1 file dequantized): \(format(theirs)) tokens/s")
    print("  dtype | ours tok/s | ratio to PyTorch | goal ≥ \(format(prefillGoal, digits: 1))×")
    for (dtype, tokensPerSecond) in ours {
        guard let tokensPerSecond else {
            print("  \(dtype) | missing | — | —")
            continue
        }
        let ratio = tokensPerSecond / theirs
        print("  \(dtype) | \(format(tokensPerSecond)) | \(format(ratio, digits: 2))× | \(ratio >= prefillGoal ? "met" : "not met")")
    }
}
