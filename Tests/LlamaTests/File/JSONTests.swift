// The small JSON parser the safetensors reader uses: order and duplicates kept, exact integers,
// escapes, and refusals (expected values are the JSON text's meaning per RFC 8259).
import Llama
import Testing

@Suite struct JSONTests {

    func parse(_ text: String) throws -> JSONValue { try JSON.parse(Array(text.utf8)) }

    @Test func membersKeepFileOrderAndDuplicates() throws {
        let value = try parse(#"{"b": 1, "a": [true, false, null], "b": "again"}"#)
        let members = try #require(value.objectMembers)
        #expect(members.map(\.key) == ["b", "a", "b"])
        #expect(value["b"]?.integerValue == 1)                    // the first of a duplicated key
        #expect(value["a"]?.arrayValue?.count == 3)
    }

    @Test func numbers() throws {
        #expect(try parse("9007199254740993").integerValue == 9_007_199_254_740_993)   // beyond 2⁵³, exact
        #expect(try parse("-0").integerValue == 0)
        guard case .number(let d) = try parse("1.5e3") else { Issue.record("not a number"); return }
        #expect(d == 1500)
        guard case .number(let big) = try parse("18446744073709551616") else { Issue.record("not a number"); return }
        #expect(big == 18_446_744_073_709_551_616.0)                // too large for Int: a Double
        for bad in ["01", "1.", "-", ".5", "1e", "+1"] {
            #expect(throws: JSONParseError.self, "\(bad)") { try parse(bad) }
        }
    }

    @Test func stringEscapes() throws {
        let value = try parse(#""q\" b\\ s\/ \b\f\n\r\t \u00e9 \ud83d\ude00 ü""#)
        #expect(value.stringValue == "q\" b\\ s/ \u{8}\u{c}\n\r\t é 😀 ü")
        for bad in [#""\ud83d""#, #""\x""#, "\"a\u{1}\"", "\"abc", #""\u12G4""#] {
            #expect(throws: JSONParseError.self, "\(bad)") { try parse(bad) }
        }
        #expect(throws: JSONParseError.self) { try JSON.parse([0x22, 0xFF, 0x22]) }   // not UTF-8
    }

    @Test func structureErrorsGiveTheirOffset() throws {
        #expect {
            try parse(#"{"a": 1,}"#)
        } throws: { error in
            (error as? JSONParseError)?.offset == 8
        }
        #expect(throws: JSONParseError.self) { try parse("[1, 2") }
        #expect(throws: JSONParseError.self) { try parse("{} {}") }
        #expect(throws: JSONParseError.self) { try parse("") }
    }

    @Test func nestingIsLimited() throws {
        let ok = String(repeating: "[", count: JSON.maximumDepth) + String(repeating: "]", count: JSON.maximumDepth)
        #expect(throws: Never.self) { try parse(ok) }
        let deep = String(repeating: "[", count: JSON.maximumDepth + 1) + String(repeating: "]", count: JSON.maximumDepth + 1)
        #expect(throws: JSONParseError.self) { try parse(deep) }
    }
}
