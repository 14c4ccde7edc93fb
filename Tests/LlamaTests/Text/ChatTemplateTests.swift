// Chat templates against transformers' apply_chat_template (jinja2) renderings.
import Foundation
import Testing
import TestSupport
import Llama

@Suite struct ChatTemplateTests {
    static func messages(_ c: ChatReference.Conversation) throws -> [ChatMessage] {
        try c.messages.map { m in
            let role = try #require(ChatMessage.Role(rawValue: m.role))
            return ChatMessage(role, m.content)
        }
    }

    /// SmolLM2's own template (from its tokenizer files) is recognised as ChatML with its default system
    /// prompt, renders exactly as transformers does, and tokenizes to the reference ids.
    @Test func smolLM2RendersAsTransformers() throws {
        let tokenizer = try smolLM2Tokenizer()
        let reference = try TokenizerFixture.load(ChatReference.self, "chat.json")
        #expect(tokenizer.chatTemplateSource == reference.smollm2_template)
        let template = try tokenizer.chatTemplate()
        #expect(template.format == .chatML(defaultSystemPrompt:
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        for c in reference.conversations {
            let text = template.render(try Self.messages(c), addingGenerationPrompt: c.add_generation_prompt)
            #expect(text == c.chatml, "\(c.name)")
            #expect(tokenizer.encode(text, addingSpecialTokens: false) == c.chatml_ids, "\(c.name)")
        }
    }

    @Test func studyPrompt() throws {
        let template = try smolLM2Tokenizer().chatTemplate()
        let reference = try TokenizerFixture.load(ChatReference.self, "chat.json")
        let study = try #require(reference.conversations.first { $0.name == "study" })
        #expect(template.render([ChatMessage(.user, "What is machine learning?")]) == study.chatml)
    }

    /// TinyLlama-Chat's template, from the Llama-style fixture's tokenizer_config.json (eos_token </s>).
    @Test func tinyLlamaRendersAsTransformers() throws {
        let tokenizer = try SentencePieceTokenizerTests.llamaBPE()
        let reference = try TokenizerFixture.load(ChatReference.self, "chat.json")
        #expect(tokenizer.chatTemplateSource == reference.tinyllama_template)
        let template = try tokenizer.chatTemplate()
        #expect(template.format == .zephyr(endOfTurn: "</s>"))
        for c in reference.conversations {
            #expect(template.render(try Self.messages(c), addingGenerationPrompt: c.add_generation_prompt) == c.zephyr,
                    "\(c.name)")
        }
    }

    @Test func plainChatMLRendersAsTransformers() throws {
        let reference = try TokenizerFixture.load(ChatReference.self, "chat.json")
        let template = try ChatTemplate(recognizing: reference.plain_chatml_template, eosToken: nil)
        #expect(template.format == .chatML(defaultSystemPrompt: nil))
        for c in reference.conversations {
            #expect(template.render(try Self.messages(c), addingGenerationPrompt: c.add_generation_prompt)
                    == c.plain_chatml, "\(c.name)")
        }
    }

    /// jinja2 drops one trailing newline of a template, so a file that ends with one is the same template.
    @Test func trailingNewlineIsTheSameTemplate() throws {
        let reference = try TokenizerFixture.load(ChatReference.self, "chat.json")
        #expect(try ChatTemplate(recognizing: reference.smollm2_template + "\n", eosToken: nil).format
            == ChatTemplate(recognizing: reference.smollm2_template, eosToken: nil).format)
    }

    // MARK: - Errors

    @Test func unrecognisedTemplateIsAnError() throws {
        let llama3 = "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"
        #expect(throws: ChatTemplateError.unrecognized(excerpt: String(llama3.prefix(80)))) {
            try ChatTemplate(recognizing: llama3, eosToken: "<|eot_id|>")
        }
        let reference = try TokenizerFixture.load(ChatReference.self, "chat.json")
        let edited = reference.smollm2_template.replacingOccurrences(of: "SmolLM", with: "SmolLM3")
        #expect(throws: ChatTemplateError.self) { try ChatTemplate(recognizing: edited, eosToken: nil) }
    }

    @Test func missingTemplateIsAnError() throws {
        let tokenizer = try ByteLevelTokenizerTests.byteBPEFromJSON()
        #expect(tokenizer.chatTemplateSource == nil)
        #expect(throws: ChatTemplateError.missing) { try tokenizer.chatTemplate() }
    }

    @Test func zephyrWithoutEOSIsAnError() throws {
        let reference = try TokenizerFixture.load(ChatReference.self, "chat.json")
        #expect(throws: ChatTemplateError.missingEndOfTurnToken) {
            try ChatTemplate(recognizing: reference.tinyllama_template, eosToken: nil)
        }
    }
}
