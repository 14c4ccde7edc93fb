// Every way building or using a tokenizer can fail, one case per failure, each carrying what was found.

public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A folder has no tokenizer.json.
    case missingFile(path: String)
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)
    /// A JSON document did not parse, or lacked a field of the expected type.
    case invalidJSON(file: String, reason: String)

    /// The tokenizer model is not BPE (`model.type`, `tokenizer.ggml.model`).
    case unsupportedModel(String)
    /// A model option this implementation does not follow (dropout, continuing_subword_prefix, …).
    case unsupportedModelOption(name: String, value: String)
    /// A normalizer other than none, or Llama's `Prepend("▁") + Replace(" ", "▁")`.
    case unsupportedNormalizer(String)
    /// A pre-tokenizer other than GPT-2's byte-level split, with or without Digits before it.
    case unsupportedPreTokenizer(String)
    /// A decoder that does not fit the model kind.
    case unsupportedDecoder(String)
    /// A post-processor that adds something other than BOS/EOS.
    case unsupportedPostProcessor(String)
    /// An added token with `lstrip`, `rstrip`, `single_word`, or `normalized` under a normalizer.
    case unsupportedAddedTokenOption(token: String, option: String)

    /// The vocabulary has no tokens.
    case emptyVocabulary
    /// Two tokens claim the same id.
    case duplicateTokenID(id: Int, first: String, second: String)
    /// The ids do not run 0..<count: this one has no token.
    case missingTokenID(id: Int, vocabularySize: Int)
    /// An array that must have one entry per token does not (`scores`, `token_type`).
    case countMismatch(array: String, expected: Int, found: Int)
    /// An array the model kind needs is absent (`merges` for byte-level BPE, `scores` for SentencePiece).
    case missingArray(String)
    /// A GGUF token type outside 1…6.
    case unknownTokenType(id: Int, type: Int32)
    /// A merge that is not two space-separated tokens.
    case malformedMerge(index: Int, found: String)
    /// A merge whose sides or result are not in the vocabulary.
    case mergeNotInVocabulary(index: Int, merge: String, missing: String)
    /// A special token named by id (bos, eos, unk, pad) is outside the vocabulary.
    case specialTokenIDOutOfRange(name: String, id: Int, vocabularySize: Int)
    /// A special token named by spelling (tokenizer_config.json) is not in the vocabulary.
    case unknownSpecialToken(name: String, spelling: String)

    /// `decode` met an id outside the vocabulary.
    case tokenIDOutOfRange(id: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .missingFile(path): "\(path): no such file (the model's tokenizer)"
        case let .unreadableFile(path, reason): "cannot read \(path): \(reason)"
        case let .invalidJSON(file, reason): "\(file) is not a valid tokenizer file: \(reason)"
        case let .unsupportedModel(found): "tokenizer model \(found) is not supported (expected BPE: gpt2 or llama)"
        case let .unsupportedModelOption(name, value): "tokenizer model option \(name) = \(value) is not supported"
        case let .unsupportedNormalizer(found): "normalizer \(found) is not supported"
        case let .unsupportedPreTokenizer(found): "pre-tokenizer \(found) is not supported"
        case let .unsupportedDecoder(found): "decoder \(found) is not supported"
        case let .unsupportedPostProcessor(found): "post-processor \(found) is not supported"
        case let .unsupportedAddedTokenOption(token, option): "added token \(token): option \(option) is not supported"
        case .emptyVocabulary: "the vocabulary is empty"
        case let .duplicateTokenID(id, first, second): "tokens \(first) and \(second) both have id \(id)"
        case let .missingTokenID(id, size): "no token has id \(id) (ids must run 0..<\(size))"
        case let .countMismatch(array, expected, found): "\(array) has \(found) entries, expected \(expected) (one per token)"
        case let .missingArray(name): "\(name) is missing"
        case let .unknownTokenType(id, type): "token \(id) has type \(type), expected 1…6"
        case let .malformedMerge(index, found): "merge \(index) is \(found), expected two tokens separated by one space"
        case let .mergeNotInVocabulary(index, merge, missing): "merge \(index) (\(merge)): \(missing) is not in the vocabulary"
        case let .specialTokenIDOutOfRange(name, id, size): "\(name) token id \(id) is outside the vocabulary of \(size)"
        case let .unknownSpecialToken(name, spelling): "\(name) token \(spelling) is not in the vocabulary"
        case let .tokenIDOutOfRange(id, size): "token id \(id) is outside the vocabulary of \(size)"
        }
    }
}
