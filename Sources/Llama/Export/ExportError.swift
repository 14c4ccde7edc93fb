// Errors of writing a Hugging Face folder: each names the path or tensor and what was wrong. All
// of them are raised before the output folder appears; nothing is left behind.

public enum ExportError: Error, Equatable, CustomStringConvertible {
    /// The output path exists and is a file (or anything but a folder).
    case outputNotAFolder(path: String)
    /// The output folder exists and holds `entries` (the first few names, sorted).
    case outputNotEmpty(path: String, entries: [String])
    /// The folder the output would be created in does not exist.
    case parentFolderMissing(path: String, parent: String)
    /// A system call failed while creating, writing, copying or renaming; `reason` is the system's message.
    case cannotWrite(path: String, reason: String)
    /// A tensor of the weights does not have the shape the config implies.
    case wrongShape(tensor: String, found: [Int], expected: [Int])
    /// The config has `layerCount` layers, the weights `found`.
    case wrongLayerCount(found: Int, expected: Int)
    /// Tied embeddings with an output head, or untied ones without.
    case outputHeadMismatch(tiedEmbeddings: Bool, hasOutputHead: Bool)
    /// A weight is NaN or infinite, or too large for the output dtype (it would become ±∞).
    case valueNotRepresentable(tensor: String, index: Int, value: Float, dtype: String)
    /// The tokenizer cannot be written as a Hugging Face tokenizer.json.
    case unsupportedTokenizer(path: String, reason: String)
    /// Two tokens share one spelling: tokenizer.json's vocab (a JSON object keyed by spelling) cannot hold both.
    case duplicateTokenSpelling(spelling: String, firstID: Int, secondID: Int)
    /// A factored export of weights whose K and V are nowhere factored.
    case nothingFactored

    public var description: String {
        switch self {
        case .outputNotAFolder(let path):
            "\(path): exists and is not a folder (the output must be a new or empty folder)"
        case .outputNotEmpty(let path, let entries):
            "\(path): the output folder is not empty (holds \(entries.joined(separator: ", "))); "
                + "choose a new or empty folder — nothing was written"
        case .parentFolderMissing(let path, let parent):
            "\(path): the folder it would be created in, \(parent), does not exist"
        case .cannotWrite(let path, let reason):
            "\(path): cannot write: \(reason)"
        case .wrongShape(let tensor, let found, let expected):
            "tensor \"\(tensor)\" has shape \(found), the config implies \(expected)"
        case .wrongLayerCount(let found, let expected):
            "the weights have \(found) layers, the config \(expected)"
        case .outputHeadMismatch(let tied, _):
            tied ? "the config ties the output head to the embedding, but the weights have their own output head"
                 : "the config has an untied output head (lm_head.weight), but the weights have none"
        case .valueNotRepresentable(let tensor, let index, let value, let dtype):
            "tensor \"\(tensor)\": value \(value) at flat index \(index) cannot be stored as \(dtype)"
        case .unsupportedTokenizer(let path, let reason):
            "\(path): the tokenizer cannot be exported to tokenizer.json: \(reason)"
        case .duplicateTokenSpelling(let spelling, let first, let second):
            "tokens \(first) and \(second) are both spelled \"\(spelling)\"; tokenizer.json's vocab cannot hold both"
        case .nothingFactored:
            "a factored folder needs K/V factors, and no layer has them (K and V must share one basis: shared-kv or shared-kv-layers)"
        }
    }
}
