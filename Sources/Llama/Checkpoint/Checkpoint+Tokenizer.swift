// The tokenizer that belongs to a checkpoint: from the GGUF's `tokenizer.ggml.*` metadata, or from
// the tokenizer.json (+ tokenizer_config.json) in a Hugging Face folder.

extension Checkpoint {
    public func tokenizer() throws -> Tokenizer {
        switch storage {
        case .gguf(let file, _):
            return try Tokenizer(gguf: GGUFTokenizerMetadata(file))
        case .safetensors, .sharded:
            guard let folder else { throw CheckpointError.noModelInDirectory(path: path) }
            return try Tokenizer(huggingFaceDirectory: folder)
        }
    }
}

extension GGUFTokenizerMetadata {
    /// Reads the `tokenizer.ggml.*` and `tokenizer.chat_template` keys (gguf-py `Keys.Tokenizer`).
    init(_ file: GGUFFile) throws {
        guard let model = file["tokenizer.ggml.model"]?.string else {
            throw CheckpointError.missingConfigKey(path: file.path, key: "tokenizer.ggml.model")
        }
        guard let tokens = file["tokenizer.ggml.tokens"]?.strings else {
            throw CheckpointError.missingConfigKey(path: file.path, key: "tokenizer.ggml.tokens")
        }
        self.init(model: model,
                  preTokenizer: file["tokenizer.ggml.pre"]?.string,
                  tokens: tokens,
                  tokenTypes: file["tokenizer.ggml.token_type"]?.ints?.map { Int32(truncatingIfNeeded: $0) },
                  merges: file["tokenizer.ggml.merges"]?.strings,
                  scores: file["tokenizer.ggml.scores"]?.floats,
                  bosTokenID: file["tokenizer.ggml.bos_token_id"]?.int,
                  eosTokenID: file["tokenizer.ggml.eos_token_id"]?.int,
                  unknownTokenID: file["tokenizer.ggml.unknown_token_id"]?.int,
                  paddingTokenID: file["tokenizer.ggml.padding_token_id"]?.int,
                  addBOSToken: file["tokenizer.ggml.add_bos_token"]?.bool,
                  addEOSToken: file["tokenizer.ggml.add_eos_token"]?.bool,
                  addSpacePrefix: file["tokenizer.ggml.add_space_prefix"]?.bool,
                  chatTemplate: file["tokenizer.chat_template"]?.string)
    }
}
