// Shared pieces of the commands: loading a model with progress, writing output, formatting numbers.
import Llama
import Surgery
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a checkpoint, loads its tokenizer and (dequantized) weights, saying so on stderr. The
/// tokenizer comes first, so that a folder without one fails before the weights are decoded.
func loadModel(_ path: String) throws -> LoadedModel {
    let (checkpoint, model, tokenizer) = try load(path, tokenizer: true)
    return LoadedModel(checkpoint: checkpoint, model: model, tokenizer: tokenizer!)
}

/// The checkpoint and its weights, for the commands that neither read nor write text: a Hugging
/// Face folder with config.json and weights is enough.
func loadWeights(_ path: String) throws -> (checkpoint: Checkpoint, model: Model) {
    let (checkpoint, model, _) = try load(path, tokenizer: false)
    return (checkpoint, model)
}

private func load(_ path: String, tokenizer needed: Bool) throws -> (Checkpoint, Model, Tokenizer?) {
    let clock = ContinuousClock()
    let start = clock.now
    status("loading \(path)…")
    let checkpoint = try Checkpoint.open(path)
    var tokenizer: Tokenizer?
    if needed {
        do { tokenizer = try checkpoint.tokenizer() } catch TokenizerError.missingFile(let file) {
            throw MissingTokenizer(path: file)
        }
    }
    let model = try Model(checkpoint: checkpoint)
    let c = model.config
    status("loaded \(c.layerCount) layers, hidden \(c.hiddenSize), vocab \(c.vocabSize) in \(fixed((clock.now - start).seconds, 1)) s")
    return (checkpoint, model, tokenizer)
}

/// A command that tokenizes, given a model folder without a tokenizer.
struct MissingTokenizer: Error, CustomStringConvertible {
    let path: String

    var description: String {
        "\(path): no such file; this command needs the model's tokenizer "
            + "(inspect, spectrum, and compress without calibration, work without one)"
    }
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
