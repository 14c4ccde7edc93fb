// A sharded Hugging Face checkpoint: `model.safetensors.index.json` maps each tensor name to the
// shard file holding it (transformers' `save_pretrained(max_shard_size=…)` writes this):
//
//   { "metadata": { "total_size": 1234, … },
//     "weight_map": { "model.embed_tokens.weight": "model-00001-of-00002.safetensors", … } }
//
// Every shard is opened and checked as a `SafetensorsFile`; the index and the shards must agree
// exactly (each listed tensor is in its shard, each shard's tensor is listed for that shard).
import Tensor

// MARK: - Checkpoint

/// A sharded safetensors checkpoint, with the same lookups as one `SafetensorsFile`.
package final class ShardedSafetensors: Sendable {
    package let indexPath: String
    /// The shards, in file-name order.
    package let shards: [SafetensorsFile]
    /// Tensor names: shard by shard (file-name order), within a shard in the order of its bytes.
    package let names: [String]
    /// The index's `metadata.total_size` when present.
    package let totalSize: Int?

    private let shardOfTensor: [String: Int]

    /// Opens `indexPath` (a `*.safetensors.index.json`) and every shard it names, beside it.
    package init(indexPath: String) throws {
        self.indexPath = indexPath
        let indexFile = try MappedFile(path: indexPath)
        let index: JSONValue
        do { index = try JSON.parse(indexFile.bytes) } catch {
            throw SafetensorsError.malformedIndex(file: indexPath, reason: "not JSON: \(error.description)")
        }
        guard index.objectMembers != nil else {
            throw SafetensorsError.malformedIndex(file: indexPath, reason: "it is \(index.kindDescription), expected an object")
        }
        guard let weightMap = index["weight_map"]?.objectMembers else {
            throw SafetensorsError.malformedIndex(file: indexPath, reason: "no \"weight_map\" object")
        }
        totalSize = index["metadata"]?["total_size"]?.integerValue

        // name → shard file name, each name once, each shard a plain file name beside the index.
        var listed: [String: String] = [:]
        for (name, value) in weightMap {
            guard let shard = value.stringValue else {
                throw SafetensorsError.malformedIndex(file: indexPath,
                    reason: "weight_map entry '\(name)' is \(value.kindDescription), expected a file name")
            }
            guard !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                throw SafetensorsError.malformedIndex(file: indexPath,
                    reason: "shard name \"\(shard)\" for '\(name)' is not a file name beside the index")
            }
            if listed[name] != nil { throw SafetensorsError.duplicateTensor(file: indexPath, tensor: name) }
            listed[name] = shard
        }

        let folder = indexPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let shardNames = Set(listed.values).sorted()
        var shards: [SafetensorsFile] = []
        var shardOfTensor: [String: Int] = [:]
        var names: [String] = []
        for (number, shardName) in shardNames.enumerated() {
            let shard = try SafetensorsFile(path: folder.isEmpty ? shardName : folder + "/" + shardName)
            for name in shard.names {
                guard listed[name] == shardName else {
                    throw SafetensorsError.tensorNotInIndex(file: shard.path, tensor: name, index: indexPath)
                }
                shardOfTensor[name] = number
                names.append(name)
            }
            shards.append(shard)
        }
        for (name, shardName) in listed where shardOfTensor[name] == nil {
            throw SafetensorsError.tensorNotFound(file: (folder.isEmpty ? "" : folder + "/") + shardName, tensor: name)
        }
        self.shards = shards
        self.names = names
        self.shardOfTensor = shardOfTensor
    }

    // MARK: Lookups

    package func contains(_ name: String) -> Bool { shardOfTensor[name] != nil }

    /// The shard holding `name`.
    package func shard(of name: String) throws(SafetensorsError) -> SafetensorsFile {
        guard let number = shardOfTensor[name] else { throw .tensorNotFound(file: indexPath, tensor: name) }
        return shards[number]
    }

    package func info(_ name: String) throws(SafetensorsError) -> SafetensorsTensorInfo {
        try shard(of: name).info(name)
    }

    package func storedTensor(_ name: String) throws(SafetensorsError) -> StoredTensor {
        try shard(of: name).storedTensor(name)
    }

    package func matrix(_ name: String) throws(SafetensorsError) -> WeightMatrix? {
        try shard(of: name).matrix(name)
    }

    package func tensor(_ name: String) throws(SafetensorsError) -> Tensor {
        try shard(of: name).tensor(name)
    }
}
