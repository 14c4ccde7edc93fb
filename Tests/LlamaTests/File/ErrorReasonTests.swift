// One test per kind of Foundation error a message may carry: each becomes plain words, never the
// error's own dump (`CocoaError(code: …, userInfo: […])`, `DecodingError.keyNotFound(CodingKeys(…))`).
import Foundation
import Testing
import Llama

@Suite struct ErrorReasonTests {
    /// No message shows a type name, a code or a user-info dictionary.
    static func expectPlain(_ reason: String, _ expected: String) {
        #expect(reason == expected)
        for dump in ["CocoaError", "POSIXError", "DecodingError", "userInfo", "Code(", "CodingKeys"] {
            #expect(!reason.contains(dump), "\(reason)")
        }
    }

    @Test func fileErrors() {
        Self.expectPlain(errorReason(CocoaError(.fileReadNoSuchFile)), "no such file")
        Self.expectPlain(errorReason(CocoaError(.fileNoSuchFile)), "no such file")
        Self.expectPlain(errorReason(CocoaError(.fileReadNoPermission)), "permission denied")
        Self.expectPlain(errorReason(CocoaError(.fileWriteNoPermission)), "permission denied")
        Self.expectPlain(errorReason(CocoaError(.fileWriteOutOfSpace)), "no space left on the device")
        Self.expectPlain(errorReason(CocoaError(.fileWriteVolumeReadOnly)), "the file system is read-only")
        Self.expectPlain(errorReason(CocoaError(.fileWriteFileExists)), "a file of that name exists")
        Self.expectPlain(errorReason(CocoaError(.fileReadInapplicableStringEncoding)), "not text in the expected encoding")
    }

    /// Reading a folder as a file: Foundation wraps the system's EISDIR.
    @Test func systemErrorInsideAFileError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("reason-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        #expect(throws: (any Error).self) { try Data(contentsOf: folder) }
        do { _ = try Data(contentsOf: folder) } catch { Self.expectPlain(errorReason(error), "is a directory") }
        Self.expectPlain(errorReason(CocoaError(.fileReadUnknown, userInfo: ["NSUnderlyingError": POSIXError(.ENOTDIR)])),
                         "not a directory")
        Self.expectPlain(errorReason(CocoaError(.fileReadUnknown)), "the file system refused (Foundation error 256)")
    }

    @Test func posixErrors() {
        Self.expectPlain(errorReason(POSIXError(.ENOENT)), "no such file or directory")
        Self.expectPlain(errorReason(POSIXError(.EACCES)), "permission denied")
    }

    private struct Shape: Decodable {
        struct Inner: Decodable { var size: Int }
        var name: String
        var inner: Inner
        var items: [Int]
    }

    private func decodingReason(_ json: String) -> String {
        do { _ = try JSONDecoder().decode(Shape.self, from: Data(json.utf8)); return "decoded" } catch { return errorReason(error) }
    }

    @Test func decodingErrors() {
        Self.expectPlain(decodingReason("{\"name\": "), "not valid JSON")
        Self.expectPlain(decodingReason("{\"name\": \"a\", \"items\": []}"), "key \"inner\" is missing")
        Self.expectPlain(decodingReason("{\"name\": \"a\", \"inner\": {}, \"items\": []}"), "key \"inner.size\" is missing")
        Self.expectPlain(decodingReason("{\"name\": 3, \"inner\": {\"size\": 1}, \"items\": []}"), "\"name\" is not a string")
        Self.expectPlain(decodingReason("{\"name\": \"a\", \"inner\": {\"size\": 1}, \"items\": [1, \"x\"]}"), "\"items[1]\" is not an integer")
        Self.expectPlain(decodingReason("{\"name\": \"a\", \"inner\": {\"size\": null}, \"items\": []}"),
                         "\"inner.size\" is null, expected an integer")
        Self.expectPlain(decodingReason("{\"name\": \"a\", \"inner\": 5, \"items\": []}"), "\"inner\" is not an object")
    }

    /// This project's errors already read as sentences and pass through.
    @Test func ownErrors() {
        #expect(errorReason(TokenizerError.missingFile(path: "/m/tokenizer.json")) == "/m/tokenizer.json: no such file (the model's tokenizer)")
    }
}
