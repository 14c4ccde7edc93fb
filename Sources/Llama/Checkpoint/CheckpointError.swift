// Errors of opening a checkpoint: each names the file, the tensor or key, and what was wrong.

public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case noModelInDirectory(path: String)
    case unrecognizedFile(path: String)
    /// No config.json beside a safetensors model (`model` is the file or index that needs it).
    case missingConfig(path: String, model: String)
    /// A config.json that exists but cannot be read (permissions, a folder of that name).
    case unreadableConfig(path: String)
    case missingConfigKey(path: String, key: String)
    case invalidConfig(path: String, reason: String)
    case unsupportedArchitecture(path: String, found: String, expected: String)
    case unsupportedFeature(path: String, feature: String)
    case missingTensor(path: String, tensor: String)
    case wrongShape(path: String, tensor: String, found: [Int], expected: [Int])

    public var description: String {
        switch self {
        case .notFound(let path):
            "\(path): no such file or directory"
        case .noModelInDirectory(let path):
            "\(path): a directory without a model (expected config.json with *.safetensors, or a .gguf file)"
        case .unrecognizedFile(let path):
            "\(path): not a GGUF or safetensors file (unrecognized first bytes)"
        case .missingConfig(let path, let model):
            "\(path): no such file; a safetensors model (\(model)) needs its config.json beside it"
        case .unreadableConfig(let path):
            "\(path): cannot read the model's config"
        case .missingConfigKey(let path, let key):
            "\(path): required config key \"\(key)\" is missing"
        case .invalidConfig(let path, let reason):
            "\(path): invalid config: \(reason)"
        case .unsupportedArchitecture(let path, let found, let expected):
            "\(path): architecture \"\(found)\" is not supported (expected \"\(expected)\")"
        case .unsupportedFeature(let path, let feature):
            "\(path): unsupported: \(feature)"
        case .missingTensor(let path, let tensor):
            "\(path): required tensor \"\(tensor)\" is missing"
        case .wrongShape(let path, let tensor, let found, let expected):
            "\(path): tensor \"\(tensor)\" has shape \(found), expected \(expected)"
        }
    }
}
