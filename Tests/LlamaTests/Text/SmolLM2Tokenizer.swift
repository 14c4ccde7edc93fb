// Where the tests get SmolLM2's tokenizer from: the real model's GGUF metadata, as a user would.
import Llama
import Synchronization
import TestSupport

/// SmolLM2-135M-Instruct's tokenizer, as the GGUF file describes it (pre-tokenizer "smollm": digits one
/// by one, then GPT-2's split). Read once per test process.
func smolLM2Tokenizer() throws -> Tokenizer {
    try smolLM2TokenizerOnce.withLock { cached in
        if let cached { return cached }
        let loaded = try Checkpoint.open(Fixtures.modelPath).tokenizer()
        cached = loaded
        return loaded
    }
}

private let smolLM2TokenizerOnce = Mutex<Tokenizer?>(nil)
