// The JSON writer: what Python's json.dumps(indent=2, ensure_ascii=False) writes, and read back by
// both JSON readers of the project (JSON.parse and Foundation's JSONSerialization).
import Foundation
import Testing
import Llama

@Suite struct JSONWritingTests {
    @Test func layoutIsPythonIndentTwo() {
        let value = JSONValue.object([
            ("a", .integer(1)), ("b", .array([.bool(true), .null, .number(0.5)])), ("c", .object([])),
            ("d", .array([])), ("e", .string("é \"q\" \\ \n\u{1}")),
        ])
        let expected = """
        {
          "a": 1,
          "b": [
            true,
            null,
            0.5
          ],
          "c": {},
          "d": [],
          "e": "é \\"q\\" \\\\ \\n\\u0001"
        }

        """
        #expect(String(decoding: value.prettyPrinted(), as: UTF8.self) == expected)
    }

    @Test func readsBack() throws {
        let value = JSONValue.object([("Ġthe", .integer(7)), ("▁", .array([.string("x y"), .decimal(1e-6)]))])
        let parsed = try JSON.parse(value.prettyPrinted())
        #expect(parsed["Ġthe"]?.integerValue == 7)
        #expect(parsed["▁"]?.arrayValue?.first?.stringValue == "x y")
        let foundation = try #require(try JSONSerialization.jsonObject(with: Data(value.prettyPrinted())) as? [String: Any])
        #expect((foundation["▁"] as? [Any])?.last as? Double == 1e-6)
    }
}
