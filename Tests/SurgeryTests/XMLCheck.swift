// Well-formedness of the SVG files, checked by Foundation's XML parser (an independent reader).
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

enum XMLDocumentCheck {
    struct NotWellFormed: Error, CustomStringConvertible { let description: String }

    final class Delegate: NSObject, XMLParserDelegate {
        var elements = 0
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            elements += 1
        }
    }

    /// Parses `text` as XML; returns the number of elements, or throws where it is not well-formed.
    static func parse(_ text: String) throws -> Int {
        let parser = XMLParser(data: Data(text.utf8))
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else {
            throw NotWellFormed(description: "line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        return delegate.elements
    }
}
