// Shared pieces of the commands: loading a model with progress, writing output, formatting numbers.
import Llama
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct LoadedModel {
    let checkpoint: Checkpoint
    let model: Model
    let tokenizer: Tokenizer
}

/// Opens a checkpoint, loads (and dequantizes) its weights and its tokenizer, saying so on stderr.
func loadModel(_ path: String) throws -> LoadedModel {
    let clock = ContinuousClock()
    let start = clock.now
    status("loading \(path)…")
    let checkpoint = try Checkpoint.open(path)
    let model = try Model(checkpoint: checkpoint)
    let tokenizer = try checkpoint.tokenizer()
    let c = checkpoint.config
    status("loaded \(c.layerCount) layers, hidden \(c.hiddenSize), vocab \(c.vocabSize) in \(fixed((clock.now - start).seconds, 1)) s")
    return LoadedModel(checkpoint: checkpoint, model: model, tokenizer: tokenizer)
}

/// Writes text to stdout at once (for streaming tokens).
func writeStandardOutput(_ text: String) {
    writeAll(text, to: 1)
}

/// Writes every byte of `text` to file descriptor `fd`, unbuffered.
func writeAll(_ text: String, to fd: Int32) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

/// `value` with `digits` digits after the point, rounded half away from zero: fixed(3.14159, 2) = "3.14".
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let whole = Int(scaled) / Int(scale), fraction = Int(scaled) % Int(scale)
    var text = String(whole)
    if digits > 0 {
        let f = String(fraction)
        text += "." + String(repeating: "0", count: digits - f.count) + f
    }
    return (value < 0 && scaled > 0 ? "-" : "") + text
}
