// Forward-pass speed on the real model: prefill tokens/s over 512-token windows (what perplexity
// does) and decode tokens/s, beside PyTorch (transformers, float32, 2 threads) in the same run.
import Foundation
import Llama
import Tensor
import TestSupport

func runForwardBenchmarks() {
    let path = Fixtures.modelPath
    guard let model = try? LoadedModel(path: path).model else {
        print("forward: model not found at \(path) (run `make model`)")
        return
    }
    let window = 512
    var rng = Xoshiro256StarStar(seed: 7)
    let tokens = (0..<window).map { _ in Int(rng.next() % UInt64(model.config.vocabSize)) }
    _ = model.logits(Array(tokens.prefix(64)))                  // warm up
    let prefill = medianSeconds(runs: 5) { _ = model.logits(tokens) }
    let decodeSteps = 128
    let decode = medianSeconds(runs: 3) {
        var cache = model.makeCache(capacity: decodeSteps + 1)
        var token = tokens[0]
        for _ in 0..<decodeSteps {
            let logits = model.forward([token], cache: &cache)
            token = logits.scalars.withUnsafeBufferPointer { argmax($0) }
        }
    }
    let ours = Double(window) / prefill
    let oursDecode = Double(decodeSteps) / decode
    print("forward (SmolLM2-135M, f32 weights after dequantization)")
    print("  prefill \(window) tokens: \(format(ours)) tokens/s (median of 5)")
    print("  decode: \(format(oursDecode)) tokens/s (median of 3 × \(decodeSteps) steps)")

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
        for _ in range(5):
            t = time.perf_counter(); m(ids); times.append(time.perf_counter() - t)
    print(512 / statistics.median(times))
    """
    if let output = runPython(script, arguments: [path]), let theirs = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) {
        print("  PyTorch prefill: \(format(theirs)) tokens/s → ratio ours/PyTorch \(format(ours / theirs, digits: 2))")
    } else {
        print("  PyTorch: not installed (or failed); no ratio")
    }
}
