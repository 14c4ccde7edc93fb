// Shared pieces of the commands: loading a model with progress, writing output, formatting numbers.
import Llama
import Surgery
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a checkpoint, loads (and dequantizes) its weights and its tokenizer, saying so on stderr.
func loadModel(_ path: String) throws -> LoadedModel {
    let clock = ContinuousClock()
    let start = clock.now
    status("loading \(path)…")
    let loaded = try LoadedModel(path: path)
    let c = loaded.model.config
    status("loaded \(c.layerCount) layers, hidden \(c.hiddenSize), vocab \(c.vocabSize) in \(fixed((clock.now - start).seconds, 1)) s")
    return loaded
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
