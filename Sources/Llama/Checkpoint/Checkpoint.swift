// One view over every checkpoint this project reads: a Hugging Face folder (config.json +
// safetensors, single or sharded), a single .safetensors file with a config.json beside it, or a
// GGUF file — recognised by content, not by extension. Tensors come out under Hugging Face names,
// in Hugging Face layout, whatever the file.
import Tensor
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tensor as the checkpoint stores it.
public struct CheckpointTensorInfo: Sendable, Equatable {
    /// Canonical (Hugging Face) name.
    public let name: String
    /// Shape in Hugging Face (PyTorch) layout.
    public let shape: [Int]
    /// The file's element type: "F32", "BF16", "Q4_1", …
    public let dtype: String
    /// Bytes the tensor occupies in the file.
    public let byteCount: Int

    public var parameterCount: Int { shape.reduce(1, *) }
}

public final class Checkpoint: Sendable {
    public enum Format: String, Sendable {
        case safetensors
        case gguf
    }

    /// The path the checkpoint was opened from.
    public let path: String
    public let format: Format
    public let config: Config
    /// The files read, and their total size in bytes.
    public let files: [String]
    public let fileSize: Int
    /// Every tensor, in file order, under canonical names (tensors with no canonical name are left out).
    public let tensors: [CheckpointTensorInfo]
    /// The folder holding tokenizer files, for Hugging Face checkpoints.
    public let folder: String?
    package let storage: Storage

    package enum Storage: Sendable {
        case safetensors(SafetensorsFile)
        case sharded(ShardedSafetensors)
        case gguf(GGUFFile, ggufName: [String: String])
    }

    init(path: String, format: Format, config: Config, files: [String], tensors: [CheckpointTensorInfo],
         folder: String?, storage: Storage) {
        self.path = path
        self.format = format
        self.config = config
        self.files = files
        self.fileSize = files.reduce(0) { $0 + Self.size(of: $1) }
        self.tensors = tensors
        self.folder = folder
        self.storage = storage
    }

    // MARK: - Opening

    /// Opens a checkpoint, recognising its kind from the path and the file's first bytes.
    public static func open(_ path: String) throws -> Checkpoint {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        if isDirectory { return try openFolder(path) }
        let file = try MappedFile(path: path)                  // one mapping: recognised, then parsed
        switch try sniff(file) {
        case .gguf: return try openGGUF(GGUFFile(file: file))
        case .safetensors:
            let folder = parentFolder(path)
            return try openSafetensors(path, configPath: folder + "/config.json", folder: folder,
                                       storage: .safetensors(SafetensorsFile(file: file)))
        }
    }

    /// The tensor named `name` (canonical), decoded to Float in Hugging Face layout.
    public func tensor(named name: String) throws -> Tensor {
        guard tensors.contains(where: { $0.name == name }) else {
            throw CheckpointError.missingTensor(path: path, tensor: name)
        }
        switch storage {
        case .safetensors(let file): return try file.tensor(name)
        case .sharded(let shards): return try shards.tensor(name)
        case .gguf(let file, let ggufName): return try ggufTensor(file, ggufName: ggufName[name]!, canonical: name)
        }
    }

    /// The matrix named `name` (canonical) in Hugging Face layout, kept in its stored encoding:
    /// nothing is decoded, and a mapped file's bytes are not copied (except a GGUF q_proj or k_proj,
    /// whose rows are put back in Hugging Face order in a copy). Throws unless its shape is `shape`.
    public func matrix(named name: String, shape: [Int]) throws -> WeightMatrix {
        guard let info = info(named: name) else { throw CheckpointError.missingTensor(path: path, tensor: name) }
        guard info.shape == shape, shape.count == 2 else {
            throw CheckpointError.wrongShape(path: path, tensor: name, found: info.shape, expected: shape)
        }
        let stored: WeightMatrix?
        switch storage {
        case .safetensors(let file): stored = try file.matrix(name)
        case .sharded(let shards): stored = try shards.matrix(name)
        case .gguf(let file, let ggufName): stored = try ggufMatrix(file, ggufName: ggufName[name]!, canonical: name)
        }
        return try stored ?? WeightMatrix(tensor(named: name))
    }

    public func info(named name: String) -> CheckpointTensorInfo? {
        tensors.first { $0.name == name }
    }

    private static func size(of path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    // MARK: - Recognising a file

    private static func sniff(_ file: MappedFile) throws -> Format {
        let b = file.bytes
        if b.count >= 4, b[0] == 0x47, b[1] == 0x47, b[2] == 0x55, b[3] == 0x46 { return .gguf }   // "GGUF"
        // safetensors: 8-byte little-endian header length, then a JSON object
        if b.count >= 9, b[8] == UInt8(ascii: "{") { return .safetensors }
        throw CheckpointError.unrecognizedFile(path: file.path)
    }

    private static func parentFolder(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        let folder = parts.joined(separator: "/")
        return folder.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : folder
    }

    // MARK: - Hugging Face folders

    private static func openFolder(_ folder: String) throws -> Checkpoint {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let configPath = folder + "/config.json"
        let hasConfig = entries.contains("config.json")
        if hasConfig, entries.contains("model.safetensors.index.json") {
            let index = folder + "/model.safetensors.index.json"
            return try openSafetensors(index, configPath: configPath, folder: folder,
                                       storage: .sharded(ShardedSafetensors(indexPath: index)))
        }
        let safetensors = entries.filter { $0.hasSuffix(".safetensors") }.sorted()
        if hasConfig, safetensors.count == 1 {
            let file = folder + "/" + safetensors[0]
            return try openSafetensors(file, configPath: configPath, folder: folder, storage: .safetensors(SafetensorsFile(path: file)))
        }
        if hasConfig, safetensors.count > 1 {
            throw CheckpointError.invalidConfig(path: folder,
                reason: "\(safetensors.count) .safetensors files and no model.safetensors.index.json")
        }
        let ggufs = entries.filter { $0.hasSuffix(".gguf") }.sorted()
        if !hasConfig, ggufs.count == 1 { return try open(folder + "/" + ggufs[0]) }
        throw CheckpointError.noModelInDirectory(path: folder)
    }

    private static func openSafetensors(_ path: String, configPath: String, folder: String,
                                        storage: Storage) throws -> Checkpoint {
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw CheckpointError.missingConfig(path: configPath, model: path)
        }
        guard let configData = FileManager.default.contents(atPath: configPath) else {
            throw CheckpointError.unreadableConfig(path: configPath)
        }
        let config = try Config(huggingFaceJSON: configData, path: configPath)
        var tensors: [CheckpointTensorInfo] = []
        let files: [String]
        switch storage {
        case .safetensors(let file):
            files = [path]
            for name in file.names {
                let info = try file.info(name)
                tensors.append(CheckpointTensorInfo(name: name, shape: info.shape, dtype: info.dtype.rawValue,
                                                    byteCount: info.dataOffsets.count))
            }
        case .sharded(let sharded):
            files = [path] + sharded.shards.map(\.path)
            for name in sharded.names {
                let info = try sharded.info(name)
                tensors.append(CheckpointTensorInfo(name: name, shape: info.shape, dtype: info.dtype.rawValue,
                                                    byteCount: info.dataOffsets.count))
            }
        case .gguf:
            preconditionFailure("GGUF files are opened by openGGUF")
        }
        let checkpoint = Checkpoint(path: path, format: .safetensors, config: config, files: files + [configPath],
                                    tensors: tensors, folder: folder, storage: storage)
        try checkpoint.checkRequiredTensors()
        return checkpoint
    }

    /// Every tensor the forward pass needs is present with the shape the config implies.
    func checkRequiredTensors() throws {
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        try ModelTensor.forEachRequired(config) { name, shape in
            guard let info = byName[name] else { throw CheckpointError.missingTensor(path: path, tensor: name) }
            guard info.shape == shape else {
                throw CheckpointError.wrongShape(path: path, tensor: name, found: info.shape, expected: shape)
            }
        }
    }
}
