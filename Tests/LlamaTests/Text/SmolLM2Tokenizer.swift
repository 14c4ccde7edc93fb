// Where the tests get SmolLM2's tokenizer from.
import Foundation
import Llama

/// SmolLM2-135M-Instruct's tokenizer, as the GGUF file describes it (pre-tokenizer "smollm": digits one
/// by one, then GPT-2's split).
///
/// TEMPORARY SEAM: until the GGUF reader is connected, this loads the tokenizer.json that
/// Tools/reference/tokenizer.py dumps from transformers (its GGUF conversion) into
/// ~/.cache/surgery/dev/smollm2-tokenizer/, outside the tree. That conversion drops SmolLM2's Digits step,
/// so the step is put back here. Replace the body with: read `Fixtures.modelPath`'s `tokenizer.*` metadata
/// into a `GGUFTokenizerMetadata` and return `try Tokenizer(gguf:)`.
func smolLM2Tokenizer() throws -> Tokenizer {
    let directory = NSHomeDirectory() + "/.cache/surgery/dev/smollm2-tokenizer"
    return try Tokenizer(huggingFaceDirectory: directory).replacingPreTokenizer(.digitsThenGPT2)
}
