// Chat prompts in the two formats the study meets — ChatML (SmolLM2) and Zephyr (TinyLlama-Chat) —
// chosen by recognising the model's own Jinja template string, and rendered exactly as transformers'
// `apply_chat_template` renders those templates (jinja2 with trim_blocks and lstrip_blocks).
// A template that is not one of the known strings is an error, never a guess.

public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// The model's files carry no chat template.
    case missing
    /// The template is none of the known ones; `excerpt` is its beginning.
    case unrecognized(excerpt: String)
    /// A Zephyr template ends turns with `eos_token`, and the model names none.
    case missingEndOfTurnToken

    public var description: String {
        switch self {
        case .missing:
            "the model has no chat template"
        case .unrecognized(let excerpt):
            "unrecognised chat template (known: \(knownTemplates.map(\.name).joined(separator: ", "))): \(excerpt)…"
        case .missingEndOfTurnToken:
            "the Zephyr chat template needs an EOS token, and the model has none"
        }
    }
}

public struct ChatTemplate: Sendable, Equatable {
    public enum Format: Sendable, Equatable {
        /// `<|im_start|>role\n…<|im_end|>\n` per message, then `<|im_start|>assistant\n`. With a default
        /// system prompt (SmolLM2), a system message goes first when the conversation starts without one.
        case chatML(defaultSystemPrompt: String?)
        /// `<|role|>\n…EOS\n` per message, then `<|assistant|>\n` (TinyLlama-Chat, from Zephyr).
        case zephyr(endOfTurn: String)
    }

    public let format: Format

    public init(format: Format) {
        self.format = format
    }

    /// Recognises a model's template string. `eosToken` is the spelling its Jinja `eos_token` stands for.
    public init(recognizing source: String, eosToken: String?) throws {
        // jinja2 drops one trailing newline of a template (keep_trailing_newline=False).
        let body = source.utf8.last == UInt8(ascii: "\n") ? String(source.dropLast()) : source
        guard let known = knownTemplates.first(where: { $0.source.utf8.elementsEqual(body.utf8) }) else {
            throw ChatTemplateError.unrecognized(excerpt: String(source.prefix(80)))
        }
        switch known.format {
        case .chatML(let system):
            format = .chatML(defaultSystemPrompt: system)
        case .zephyr:
            guard let eos = eosToken else { throw ChatTemplateError.missingEndOfTurnToken }
            format = .zephyr(endOfTurn: eos)
        }
    }

    /// The prompt text for `messages`; with `addingGenerationPrompt` it ends where the assistant's reply
    /// begins. Tokenize it with special tokens matched and no BOS added by hand (the template has none).
    public func render(_ messages: [ChatMessage], addingGenerationPrompt: Bool = true) -> String {
        var out = ""
        switch format {
        case .chatML(let system):
            for (i, m) in messages.enumerated() {
                if i == 0, m.role != .system, let system {
                    out += "<|im_start|>system\n" + system + "<|im_end|>\n"
                }
                out += "<|im_start|>" + m.role.rawValue + "\n" + m.content + "<|im_end|>\n"
            }
            if addingGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .zephyr(let eos):
            for (i, m) in messages.enumerated() {
                out += "<|" + m.role.rawValue + "|>\n" + m.content + eos + "\n"
                // Zephyr's template puts the generation prompt inside the loop: none for no messages.
                if i == messages.count - 1 && addingGenerationPrompt { out += "<|assistant|>\n" }
            }
        }
        return out
    }
}

extension Tokenizer {
    /// The model's chat template, recognised; throws `ChatTemplateError` if absent or unknown.
    public func chatTemplate() throws -> ChatTemplate {
        guard let source = chatTemplateSource else { throw ChatTemplateError.missing }
        return try ChatTemplate(recognizing: source, eosToken: eosTokenID.flatMap { spelling(ofToken: $0) })
    }
}

// MARK: - The known templates, verbatim

private struct KnownTemplate: Sendable {
    var name: String
    var source: String
    var format: ChatTemplate.Format
}

private let knownTemplates: [KnownTemplate] = [
    // SmolLM2-135M/360M/1.7B-Instruct (tokenizer_config.json; GGUF tokenizer.chat_template).
    KnownTemplate(
        name: "SmolLM2 (ChatML)",
        source: "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
            + "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
            + "<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
            + "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
            + "{% endif %}",
        format: .chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")),
    // Plain ChatML, as in transformers' chat-templating guide (SmolLM v1 Instruct and others).
    KnownTemplate(
        name: "ChatML",
        source: "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
            + "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
            + "{% endif %}",
        format: .chatML(defaultSystemPrompt: nil)),
    // TinyLlama-1.1B-Chat-v1.0 (tokenizer_config.json), Zephyr's format.
    KnownTemplate(
        name: "TinyLlama-Chat (Zephyr)",
        source: "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + "
            + "message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + "
            + "message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + "
            + "message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n"
            + "{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
        format: .zephyr(endOfTurn: "")),
]
