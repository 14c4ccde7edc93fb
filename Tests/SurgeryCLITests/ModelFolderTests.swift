// Each command needs only what it uses: a Hugging Face folder with config.json and weights but no
// tokenizer serves inspect, spectrum and compress; the commands that tokenize name the missing file.
// And every unreadable file is named in words, never as a Foundation error's dump.
import Foundation
import Testing
import TestSupport

/// A copy of the tiny f32 model folder (config.json + model.safetensors, no tokenizer).
func folderWithoutTokenizer() throws -> String {
    let folder = try temporaryFolder().appendingPathComponent("tiny").path
    try FileManager.default.copyItem(atPath: Fixtures.path("tiny/f32"), toPath: folder)
    return folder
}

/// Nothing in a message is a type's dump.
func expectNoDump(_ text: String, _ context: String = "") {
    for dump in ["CocoaError", "POSIXError", "DecodingError", "userInfo", "Code(rawValue", "CodingKeys"] {
        #expect(!text.contains(dump), "\(context): \(text)")
    }
}

@Suite struct ModelFolderTests {
    @Test func spectrumNeedsNoTokenizer() throws {
        let folder = try folderWithoutTokenizer()
        let out = try temporaryFolder().appendingPathComponent("spectrum").path
        let result = try surgery(["spectrum", folder, "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/spectrum.csv"))
    }

    @Test func compressNeedsNoTokenizerAndSaysSo() throws {
        let folder = try folderWithoutTokenizer()
        let out = try temporaryFolder().appendingPathComponent("compressed").path
        let result = try surgery(["compress", folder, "--rank", "4", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("has no tokenizer to copy"), "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["config.json", "generation_config.json", "model.safetensors"])
    }

    @Test func inspectNeedsNoTokenizer() throws {
        let result = try surgery(["inspect", try folderWithoutTokenizer()])
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The commands that tokenize stop before decoding the weights, naming the file and the commands that work.
    @Test func commandsThatTokenizeNameTheMissingFile() throws {
        let folder = try folderWithoutTokenizer()
        for arguments in [["run", folder, "--windows", "1"], ["generate", folder, "--prompt", "Hi"],
                          ["perplexity", folder, "--text", try wikiExcerpt()]] {
            let result = try surgery(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains("\(folder)/tokenizer.json: no such file; this command needs the model's tokenizer"
                                           + " (inspect, spectrum, and compress without calibration, work without one)"),
                    "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("loaded"), "\(arguments): decoded the weights first")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func tokenizerThatIsAFolder() throws {
        let folder = try folderWithoutTokenizer()
        try FileManager.default.createDirectory(atPath: folder + "/tokenizer.json", withIntermediateDirectories: false)
        let result = try surgery(["generate", folder, "--prompt", "Hi"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot read \(folder)/tokenizer.json: is a directory"), "\(result.stderr)")
        expectNoDump(result.stderr)
    }

    @Test func tokenizerOfTheWrongShape() throws {
        let folder = try folderWithoutTokenizer()
        try Data("{\"model\": 3}".utf8).write(to: URL(fileURLWithPath: folder + "/tokenizer.json"))
        let result = try surgery(["generate", folder, "--prompt", "Hi"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("tokenizer.json is not a valid tokenizer file: \"model\" is not an object"), "\(result.stderr)")
        expectNoDump(result.stderr)
    }

    @Test func configThatIsNotJSON() throws {
        let folder = try folderWithoutTokenizer()
        try Data("{\"model_type\": ".utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
        let result = try surgery(["inspect", folder])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(folder)/config.json: invalid config: not a readable config.json: not valid JSON"), "\(result.stderr)")
        expectNoDump(result.stderr)
    }

    @Test func configOfTheWrongShape() throws {
        let folder = try folderWithoutTokenizer()
        try Data("{\"model_type\": \"llama\", \"hidden_size\": \"wide\"}".utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
        let result = try surgery(["inspect", folder])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\"hidden_size\" is not an integer"), "\(result.stderr)")
        expectNoDump(result.stderr)
    }

    /// An output folder that cannot be created (its parent is a file): the system's words.
    @Test func outputUnderAFile() throws {
        let file = try temporaryFolder().appendingPathComponent("a-file").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let result = try surgery(["spectrum", try folderWithoutTokenizer(), "--out", file + "/spectrum"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(file)/spectrum: cannot write: not a directory"), "\(result.stderr)")
        expectNoDump(result.stderr)
    }
}

@Suite struct UnknownOptionTests {
    /// An unknown option is named as unknown whatever follows it, before any other complaint.
    @Test(arguments: [
        ["compress", "--bogus", "--out", "/tmp/never"],
        ["compress", "--bogus", "/tmp/never"],
        ["compress", "--bogus"],
        ["run", "--bogus=3"],
        ["sweep", "--variances", "0.9", "--bogus", "--out", "/tmp/never"],
    ]) func unknownOption(arguments: [String]) throws {
        let result = try surgery(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown option --bogus"), "\(arguments): \(result.stderr)")
    }

    /// A known option followed by another option has no value (it does not swallow the option).
    @Test func optionWithoutAValue() throws {
        let result = try surgery(["generate", Fixtures.modelPath, "--prompt", "--chat"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--prompt needs a value"), "\(result.stderr)")
        let spelled = try surgery(["generate", Fixtures.modelPath, "--prompt=--chat", "--max-tokens", "1"])
        #expect(spelled.status == 0, "\(spelled.stderr)")
    }

    /// An option of another command is unknown to this one.
    @Test func optionOfAnotherCommand() throws {
        let result = try surgery(["inspect", Fixtures.modelPath, "--prompt", "Hi"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown option --prompt"), "\(result.stderr)")
    }
}
