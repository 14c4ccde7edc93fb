// The default model of every command but `inspect`: SmolLM2-135M-Instruct (Q4_1 GGUF), which
// `make model` fetches and caches (Tools/fetch-model.sh, the Makefile's MODEL_CACHE).
import FoundationEssentials

enum DefaultModel {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// `$SURGERY_MODEL` if set, else `~/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf`.
    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["SURGERY_MODEL"], !path.isEmpty { return path }
        let home = environment["HOME"] ?? "."
        return home + "/.cache/surgery/models/" + fileName
    }
}
