// Writing a model as a Hugging Face folder that transformers loads with
// `AutoModelForCausalLM.from_pretrained(folder)` and `AutoTokenizer.from_pretrained(folder)`:
//
//   config.json              from `Config` (HuggingFaceConfig.swift)
//   generation_config.json   BOS/EOS (or the source folder's own, copied)
//   model.safetensors        every tensor under its Hugging Face name, as F32, BF16 or F16;
//                            a tied model has no lm_head.weight
//
// A factored folder (`factored: true`) keeps each latent layer's K/V factors instead of k_proj and
// v_proj: model.layers.N.self_attn.kv_a_proj.weight (A, r × D), .k_b_proj.weight (B_k, G·Dh × r)
// and .v_b_proj.weight (B_v, G·Dh × r); config.json gains latent_kv_ranks (r per layer, 0 for a
// dense one) under model_type "llama_latent_kv", which this project loads and transformers refuses.
//   tokenizer files          copied from a Hugging Face source, built from a GGUF's metadata
//                            (HuggingFaceTokenizer.swift)
//
// Everything is checked first, then written into a new hidden folder beside the destination, which
// is renamed onto it at the end: the destination is either absent/empty or complete, never partial.
// Matrices that replace some of the weights' (`LayerReplacements`) are made, and checked, only when
// the writer reaches their layer, so a surgered model is written without ever being held whole.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Tensor

// L layers · D model dim · H query heads · G kv heads · Dh head dim · F MLP dim · V vocab

/// What `exportHuggingFace` wrote.
public struct ExportedFolder: Sendable, Equatable {
    /// The folder, as given.
    public let path: String
    /// The files in it, sorted by name, with their sizes in bytes.
    public let files: [(name: String, byteCount: Int)]
    /// Tensors in model.safetensors, and their values.
    public let tensorCount: Int
    public let parameterCount: Int

    public static func == (a: ExportedFolder, b: ExportedFolder) -> Bool {
        a.path == b.path && a.files.elementsEqual(b.files) { $0 == $1 }
            && a.tensorCount == b.tensorCount && a.parameterCount == b.parameterCount
    }
}

// MARK: - Export

/// Matrices written in place of some of the weights' own, made one layer at a time as the writer
/// reaches them. The writer visits each layer's tensors one after another (in name order: layer 1,
/// 10, 11, …, 19, 2, 20, …), calling `make(layer)` for each replaced tensor of it; a producer that
/// holds its last layer makes each layer once.
public struct LayerReplacements {
    /// Per layer, the tensors replaced (empty for a layer written as it is).
    public let tensors: [[LayerTensor]]
    /// Layer `layer`'s replacing matrices, keyed by tensor; shapes as the weights' own.
    public let make: (_ layer: Int) throws -> [LayerTensor: WeightMatrix]

    public init(tensors: [[LayerTensor]], make: @escaping (_ layer: Int) throws -> [LayerTensor: WeightMatrix]) {
        self.tensors = tensors
        self.make = make
    }
}

/// Writes `weights` (shaped as `config` says) as a Hugging Face folder at `folder`, which must not exist
/// or be an empty folder; its parent must exist. Weights are rounded to `dtype` (to nearest, ties to
/// even). The tokenizer files come from `tokenizerSource` (copied from a Hugging Face folder, built
/// from a GGUF's metadata); with `nil`, or a folder without tokenizer files, none are written.
/// `metadata` goes into model.safetensors' `__metadata__` beside `"format": "pt"` (which transformers
/// requires, and which wins over a `format` key in `metadata`).
///
/// With `replacing`, its matrices are written in place of the weights' (not with `factored`).
/// `checked(done, total)` follows the check of the matrices, which reads every one of them before
/// anything is written.
///
/// Nothing is written unless everything is: the files go into a hidden sibling folder that is renamed
/// onto `folder` when complete, and removed on any error.
@discardableResult
public func exportHuggingFace(weights: Weights, replacing: LayerReplacements? = nil, config: Config,
                              tokenizerSource: Checkpoint?, dtype: ScalarEncoding, to folder: String,
                              factored: Bool = false, metadata: [String: String] = [:],
                              checked: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> ExportedFolder {
    // 1. The destination: absent (with an existing parent) or an empty folder.
    let destination = folder.count > 1 && folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    let parent = try checkDestination(destination)

    // 2. The content, checked and built in memory (the tensors are shared, not copied).
    var exported = config
    exported.latentKVRanks = nil
    let weights = factored ? weights : weights.droppingLatentKV()
    if weights.layers.contains(where: { $0.latentKV != nil }), weights.layers.count == config.layerCount {
        exported.latentKVRanks = weights.latentRanks.map { $0 ?? 0 }
    } else if factored {
        throw ExportError.nothingFactored
    }
    let validConfig = try exported.validated(source: "the config to export")
    precondition(replacing == nil || !factored, "exportHuggingFace: replacements are written dense")
    let entries = try safetensorsEntries(weights, replacing: replacing, config: validConfig, dtype: dtype, checked: checked)
    var files = try tokenizerSource.map(tokenizerFiles(of:)) ?? []
    files.append(ExportFile(name: "config.json", contents: validConfig.huggingFaceConfigJSON(dtype: dtype).prettyPrinted()))
    if !files.contains(where: { $0.name == "generation_config.json" }) {
        files.append(ExportFile(name: "generation_config.json",
                                contents: validConfig.huggingFaceGenerationConfigJSON().prettyPrinted()))
    }

    // 3. Written into a hidden sibling folder, renamed into place.
    let base = destination.split(separator: "/").last.map(String.init) ?? destination
    let temporary = try makeTemporaryFolder(in: parent, base: base)
    var renamed = false
    defer { if !renamed { removeTemporaryFolder(temporary) } }

    var tensorMetadata = metadata
    tensorMetadata["format"] = "pt"
    do {
        try SafetensorsFile.write(entries, metadata: tensorMetadata, to: temporary + "/model.safetensors")
        chmod(temporary + "/model.safetensors", 0o644)     // written through mkstemp, which makes it 0600
    } catch let error as FileAccessError {
        throw ExportError.cannotWrite(path: destination + "/model.safetensors", reason: errorReason(error))
    } catch let error as SafetensorsError {
        throw ExportError.cannotWrite(path: destination + "/model.safetensors", reason: errorReason(error))
    }                                                        // others (a replacement's own) as they are
    for file in files { try writeFile(file.contents, to: temporary + "/" + file.name, named: destination + "/" + file.name) }

    // rename(2) onto an empty folder replaces it; onto a non-empty one (filled meanwhile) it fails.
    if rename(temporary, destination) != 0 {
        let code = errno
        let reason = String(cString: strerror(code))
        if code == ENOTEMPTY || code == EEXIST {
            throw ExportError.outputNotEmpty(path: destination, entries: (try? entriesOf(destination)) ?? [])
        }
        throw ExportError.cannotWrite(path: destination, reason: "renaming \(temporary) onto it: \(reason)")
    }
    renamed = true

    let sizes = (files.map(\.name) + ["model.safetensors"]).sorted().map { name in
        (name: name, byteCount: fileSize(destination + "/" + name))
    }
    return ExportedFolder(path: destination, files: sizes, tensorCount: entries.count,
                          parameterCount: entries.reduce(0) { $0 + $1.shape.reduce(1, *) })
}

// MARK: - Tensors

/// The tensors under their Hugging Face names, in data-flow order, each checked against the shape the
/// config implies and against the dtype's range (a replacing matrix when it is made).
private func safetensorsEntries(_ w: Weights, replacing: LayerReplacements?, config c: Config, dtype: ScalarEncoding,
                                checked: (_ done: Int, _ total: Int) -> Void) throws -> [SafetensorsEntry] {
    guard w.layers.count == c.layerCount else {
        throw ExportError.wrongLayerCount(found: w.layers.count, expected: c.layerCount)
    }
    guard (w.outputHead == nil) == c.tiedEmbeddings else {
        throw ExportError.outputHeadMismatch(tiedEmbeddings: c.tiedEmbeddings, hasOutputHead: w.outputHead != nil)
    }
    if let replacing, replacing.tensors.count != w.layers.count {
        throw ExportError.wrongLayerCount(found: replacing.tensors.count, expected: w.layers.count)
    }
    var tensors: [(String, WeightMatrix)] = [(ModelTensor.embedding, w.embedding)]
    var vectors: [(String, Tensor)] = []
    var deferred: [(name: String, layer: Int, tensor: LayerTensor)] = []
    for (i, layer) in w.layers.enumerated() {
        for t in LayerTensor.allCases {
            if replacing?.tensors[i].contains(t) ?? false {
                deferred.append((t.name(layer: i), i, t))
            } else if t == .inputNorm || t == .postAttentionNorm {
                vectors.append((t.name(layer: i), layer[t]))
            } else if let latent = layer.latentKV, t == .k || t == .v {
                if t == .k {
                    tensors += [(LatentTensor.down.name(layer: i), WeightMatrix(latent.down)),
                                (LatentTensor.keyUp.name(layer: i), WeightMatrix(latent.keyUp)),
                                (LatentTensor.valueUp.name(layer: i), WeightMatrix(latent.valueUp))]
                }
            } else {
                tensors.append((t.name(layer: i), layer[matrix: t]))
            }
        }
    }
    vectors.append((ModelTensor.finalNorm, w.finalNorm))
    if let head = w.outputHead { tensors.append((ModelTensor.outputHead, head)) }

    let expected = Dictionary(uniqueKeysWithValues: ModelTensor.required(c).map { ($0.name, $0.shape) })
    func checkShape(_ name: String, _ shape: [Int]) throws {
        let wanted = expected[name]!                      // `required` lists exactly these names
        guard shape == wanted else { throw ExportError.wrongShape(tensor: name, found: shape, expected: wanted) }
    }
    let vectorEntries = try vectors.map { name, tensor in
        try checkShape(name, tensor.shape)
        try checkRepresentable(tensor.scalars[...], offset: 0, as: dtype, tensor: name)
        return SafetensorsEntry(name: name, tensor: tensor, dtype: dtype)
    }
    // Matrices are checked a few rows at a time and written from their storage, so exporting holds
    // no decoded copy of the model.
    let matrixEntries = try tensors.enumerated().map { index, named in
        let (name, matrix) = named
        try checkShape(name, matrix.shape)
        try matrix.forEachDecodedChunk { values, offset in try checkRepresentable(values, offset: offset, as: dtype, tensor: name) }
        checked(index + 1, tensors.count)
        return SafetensorsEntry(name: name, matrix: matrix, dtype: dtype)
    }
    let deferredEntries = deferred.map { name, layer, t in
        SafetensorsEntry(name: name, shape: expected[name]!, dtype: dtype) {
            guard let matrix = try replacing!.make(layer)[t] else {
                preconditionFailure("LayerReplacements: layer \(layer) made no \(name)")    // the producer's contract
            }
            try checkShape(name, matrix.shape)
            try matrix.forEachDecodedChunk { values, offset in try checkRepresentable(values, offset: offset, as: dtype, tensor: name) }
            return matrix
        }
    }
    return matrixEntries + deferredEntries + vectorEntries
}

/// Every value is finite and stays finite when rounded to `dtype`: binary16 rounds |x| ≥ 65520 (halfway
/// above its largest finite value, 65504) to ∞; bfloat16 rounds |x| ≥ 0x7F7F8000 as float32 bits
/// (halfway above 0x7F7F, ≈ 3.39e38) to ∞. `!(|x| < limit)` also catches NaN.
private func checkRepresentable(_ values: ArraySlice<Float>, offset: Int, as dtype: ScalarEncoding, tensor: String) throws {
    let limit: Float = switch dtype {
    case .float32: .infinity
    case .float16: 65_520
    case .bfloat16: Float(bitPattern: 0x7F7F_8000)
    }
    if let index = values.firstIndex(where: { !(abs($0) < limit) }) {
        throw ExportError.valueNotRepresentable(tensor: tensor, index: offset + index - values.startIndex, value: values[index],
                                                dtype: dtype.rawValue)
    }
}

// MARK: - Folders and files

/// Checks the destination and returns the folder it lives in.
private func checkDestination(_ path: String) throws -> String {
    var info = stat()
    if lstat(path, &info) == 0 {
        guard info.st_mode & S_IFMT == S_IFDIR else { throw ExportError.outputNotAFolder(path: path) }
        let entries = try entriesOf(path)
        guard entries.isEmpty else { throw ExportError.outputNotEmpty(path: path, entries: entries) }
    }
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
    let parent = parts.isEmpty ? "." : (parts.joined(separator: "/").isEmpty ? "/" : parts.joined(separator: "/"))
    guard stat(parent, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
        throw ExportError.parentFolderMissing(path: path, parent: parent)
    }
    return parent
}

/// The first few names in a folder (hidden ones included), sorted, for messages.
private func entriesOf(_ path: String) throws -> [String] {
    do {
        return Array(try FileManager.default.contentsOfDirectory(atPath: path).sorted().prefix(5))
    } catch {
        throw ExportError.cannotWrite(path: path, reason: "cannot list it: \(errorReason(error))")
    }
}

/// A new, uniquely named hidden folder `parent/.base.partial-XXXXXX`.
private func makeTemporaryFolder(in parent: String, base: String) throws -> String {
    var template = Array("\(parent)/.\(base).partial-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else {
        throw ExportError.cannotWrite(path: parent, reason: "cannot create a temporary folder: \(String(cString: strerror(errno)))")
    }
    let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    chmod(path, 0o755)                      // mkdtemp makes it private (0700); the result is an ordinary folder
    return path
}

/// Removes the temporary folder and what this export put in it (it holds nothing else).
private func removeTemporaryFolder(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

private func writeFile(_ bytes: [UInt8], to path: String, named shownPath: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard fd >= 0 else { throw ExportError.cannotWrite(path: shownPath, reason: String(cString: strerror(errno))) }
    var written = 0
    var failure: String?
    bytes.withUnsafeBytes { raw in
        while written < raw.count {
            let n = write(fd, raw.baseAddress! + written, raw.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
                return
            }
            written += n
        }
    }
    if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
    if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
    if let failure { throw ExportError.cannotWrite(path: shownPath, reason: failure) }
}

private func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}
