import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One element of a small XML document (a VOC annotation), read whole into a tree: the file
/// holds one image's objects, so the tree is bounded by the file limit, never by the dataset.
struct XMLTreeElement: Sendable {
    var name: String
    var attributes: [String: String]
    var text: String
    var children: [XMLTreeElement]
    /// The line the element starts on, for errors.
    var line: Int

    func child(_ name: String) -> XMLTreeElement? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLTreeElement] { children.filter { $0.name == name } }
    var trimmedText: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
}

enum XMLTree {
    /// Deepest nesting accepted: VOC needs four levels; a deeper file is refused, not recursed into.
    static let maxDepth = 32
    /// Most elements in one file.
    static let maxElements = 200_000

    /// The root element of `data`; a fault names `file` and its line.
    static func parse(_ data: Data, file: String) throws -> XMLTreeElement {
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let refusal = builder.refusal {
            throw ImportError.invalid(file: file, line: refusal.line, path: "", message: refusal.message)
        }
        guard parsed, let root = builder.root else {
            let reason = parser.parserError.map { ($0 as NSError).localizedDescription } ?? "not well-formed XML"
            throw ImportError.invalid(file: file, line: max(1, parser.lineNumber), path: "", message: "malformed XML: \(reason)")
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTreeElement] = []
        var root: XMLTreeElement?
        var elements = 0
        var refusal: (line: Int, message: String)?

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            elements += 1
            if stack.count >= XMLTree.maxDepth || elements > XMLTree.maxElements {
                refusal = (
                    parser.lineNumber,
                    stack.count >= XMLTree.maxDepth
                        ? "elements nest deeper than \(XMLTree.maxDepth) levels" : "more than \(XMLTree.maxElements) elements"
                )
                parser.abortParsing()
                return
            }
            stack.append(XMLTreeElement(name: name, attributes: attributes, text: "", children: [], line: parser.lineNumber))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let element = stack.popLast() else { return }
            if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
        }
    }
}
