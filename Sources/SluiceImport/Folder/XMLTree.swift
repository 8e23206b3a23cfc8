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
    var trimmedText: String { text.trimmed() }
    /// This element and every one below it.
    var elementCount: Int { children.reduce(1) { $0 + $1.elementCount } }
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

    /// Most elements in one child of the root of a streamed document (a CVAT `<track>` of a
    /// long video holds a shape per frame).
    static let maxStreamedElements = 2_000_000

    /// Reads the document at `path` one child of its root at a time, handing each to `body` when
    /// it closes and then dropping it: memory is bounded by the largest child (a CVAT `<image>`
    /// or `<track>`), never by the file. Returns the root with its attributes and no children.
    /// A fault, or an error `body` throws, stops the reading; faults name `file` and the line.
    @discardableResult
    static func forEachChild(ofRootAt path: String, file: String, body: @escaping (XMLTreeElement) throws -> Void) throws
        -> XMLTreeElement
    {
        guard let stream = InputStream(fileAtPath: path) else { throw ImportError.unreadable(path: file) }
        let builder = Builder(streaming: body)
        let parser = XMLParser(stream: stream)
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let failure = builder.failure { throw failure }
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
        /// When streaming: called with each child of the root as it closes.
        let streaming: ((XMLTreeElement) throws -> Void)?
        var failure: (any Error)?
        var elementLimit: Int { streaming == nil ? XMLTree.maxElements : XMLTree.maxStreamedElements }

        init(streaming: ((XMLTreeElement) throws -> Void)? = nil) {
            self.streaming = streaming
        }

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            elements += 1
            if stack.count >= XMLTree.maxDepth || elements > elementLimit {
                refusal = (
                    parser.lineNumber,
                    stack.count >= XMLTree.maxDepth
                        ? "elements nest deeper than \(XMLTree.maxDepth) levels"
                        : "more than \(elementLimit) elements\(streaming == nil ? "" : " in one child of the root")"
                )
                parser.abortParsing()
                return
            }
            stack.append(XMLTreeElement(name: name, attributes: attributes, text: "", children: [], line: parser.lineNumber))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            // A streamed root's own text is the whitespace between its children: not kept.
            guard !stack.isEmpty, streaming == nil || stack.count > 1 else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let element = stack.popLast() else { return }
            if stack.isEmpty {
                root = element
            } else if stack.count == 1, let streaming {
                elements = 1
                do { try streaming(element) } catch {
                    failure = error
                    parser.abortParsing()
                }
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }
    }
}
