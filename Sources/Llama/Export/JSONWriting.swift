// JSON text for the files a Hugging Face folder holds (config.json, tokenizer.json, …): the
// order-keeping `JSONValue` of JSON.swift, written as Python's `json.dumps(indent=2,
// ensure_ascii=False)` writes it — two-space indent, members in the order given, UTF-8 kept as is.
// Strings are escaped as serde_json escapes them (one function for the module, in SafetensorsWriter).

extension JSONValue {
    /// Pretty-printed UTF-8 text with a final newline.
    package func prettyPrinted() -> [UInt8] {
        var out: [UInt8] = []
        write(to: &out, indent: 0)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private func write(to out: inout [UInt8], indent: Int) {
        func newline(_ depth: Int) {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
        }
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .integer(let i): out += Array(String(i).utf8)
        case .number(let x): out += Array(Self.numberText(x).utf8)
        case .string(let s): SafetensorsFile.appendJSONString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += Array("[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                item.write(to: &out, indent: indent + 1)
            }
            newline(indent)
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty { out += Array("{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                SafetensorsFile.appendJSONString(member.key, to: &out)
                out += Array(": ".utf8)
                member.value.write(to: &out, indent: indent + 1)
            }
            newline(indent)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Swift's shortest round-trip text ("1e-05", "100000.0"), which is also valid JSON. Callers
    /// never pass NaN or infinity (JSON has no spelling for them).
    private static func numberText(_ x: Double) -> String {
        precondition(x.isFinite, "JSON has no spelling for \(x)")
        return x.description
    }

    /// A Float as the JSON number with its shortest decimal text: 1e-5 as `1e-05`, not as the
    /// `9.99999974737875e-06` its exact Double value would print.
    package static func decimal(_ x: Float) -> JSONValue {
        .number(Double(x.description) ?? Double(x))
    }
}
