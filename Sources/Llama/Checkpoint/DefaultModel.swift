// The default model: SmolLM2-135M-Instruct (Q4_1 GGUF), which `make model` fetches and caches.
import FoundationEssentials

public enum DefaultModel {
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// `$SURGERY_MODEL` if set, else `~/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf`.
    public static var path: String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["SURGERY_MODEL"], !path.isEmpty { return path }
        let home = environment["HOME"] ?? "."
        return home + "/.cache/surgery/models/" + fileName
    }
}
