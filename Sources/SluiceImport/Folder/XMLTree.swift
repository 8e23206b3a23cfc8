import CLibXML2
import Foundation

/// One element of a parsed XML document: a position in its document's flat arrays, so that
/// reading a file makes a few arrays rather than a value, a children array and its growth per
/// element (the tree of values cost more than libxml2's parsing of the same file).
struct XMLTreeElement: Sendable {
    let document: XMLDocumentNodes
    let index: Int

    var name: String { document.names[index] }
    var attributes: [String: String] { document.attributes[index] }
    var text: String { document.texts[index] }
    /// The line the element starts on, for errors.
    var line: Int { Int(document.lines[index]) }
    var trimmedText: String { text.trimmed() }
    /// This element and every one below it.
    var elementCount: Int { Int(document.ends[index]) - index }

    var children: [XMLTreeElement] {
        var found: [XMLTreeElement] = []
        forEachChild { found.append($0) }
        return found
    }

    func child(_ name: String) -> XMLTreeElement? {
        var at = index + 1
        let end = Int(document.ends[index])
        while at < end {
            if document.names[at] == name { return XMLTreeElement(document: document, index: at) }
            at = Int(document.ends[at])
        }
        return nil
    }

    func children(_ name: String) -> [XMLTreeElement] {
        var found: [XMLTreeElement] = []
        forEachChild { if $0.name == name { found.append($0) } }
        return found
    }

    private func forEachChild(_ body: (XMLTreeElement) -> Void) {
        // Elements are stored in document order, each followed by those inside it: the next
        // sibling of an element begins where it ends.
        var at = index + 1
        let end = Int(document.ends[index])
        while at < end {
            body(XMLTreeElement(document: document, index: at))
            at = Int(document.ends[at])
        }
    }
}

/// The elements of one document (or of one streamed child of a root) in document order.
final class XMLDocumentNodes: Sendable {
    let names: [String]
    let attributes: [[String: String]]
    let texts: [String]
    let lines: [Int32]
    /// Where each element's part of the arrays ends: it and the elements inside it are
    /// `index..<ends[index]`.
    let ends: [Int32]

    init(names: [String], attributes: [[String: String]], texts: [String], lines: [Int32], ends: [Int32]) {
        self.names = names
        self.attributes = attributes
        self.texts = texts
        self.lines = lines
        self.ends = ends
    }
}

/// XML read with libxml2's SAX2 parser, the library Foundation's `XMLParser` wraps on Linux,
/// called directly: `XMLParser` spent more time bridging each callback (a delegate looked up
/// through a weak reference, a dictionary of attributes per element) than libxml2 spent
/// parsing, and the XML formats' imports were bound by it. SAX2 rather than libxml2's reader:
/// the reader builds and frees a libxml2 node per element and took twice as long.
///
/// Nothing outside the document is read: no DTD is loaded, no network, and a document that
/// declares entities is refused (only the five predefined ones and character references are
/// read), so no entity can expand without bound or name another file.
enum XMLTree {
    /// Deepest nesting accepted: VOC needs four levels; a deeper file is refused, not recursed into.
    static let maxDepth = 32
    /// Most elements in one file.
    static let maxElements = 200_000
    /// Most elements in one child of the root of a streamed document (a CVAT `<track>` of a
    /// long video holds a shape per frame).
    static let maxStreamedElements = 2_000_000

    /// `XML_PARSE_NOENT` so that an attribute's `&amp;` comes decoded (SAX2 otherwise hands it
    /// over as `&#38;`, for a tree builder to decode again); entities the document declares
    /// are refused at their declaration, so there are none to substitute.
    private static let options = Int32(
        bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_BIG_LINES.rawValue | XML_PARSE_NOENT.rawValue)

    /// The root element of `data`; a fault names `file` and its line.
    static func parse(_ data: Data, file: String) throws -> XMLTreeElement {
        guard data.count < Int32.max else {
            throw ImportError.invalid(file: file, line: 1, path: "", message: "malformed XML: larger than 2 GiB")
        }
        let builder = Builder(file: file, streaming: nil)
        try data.withUnsafeBytes { bytes in
            try builder.parse { feed in
                if let start = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) { try feed(start, bytes.count) }
            }
        }
        return try builder.finish()
    }

    /// Reads the document at `path` one child of its root at a time, handing each to `body` when
    /// it closes and then dropping it: memory is bounded by the largest child (a CVAT `<image>`
    /// or `<track>`), never by the file. Returns the root with its attributes and no children.
    /// A fault, or an error `body` throws, stops the reading; faults name `file` and the line.
    @discardableResult
    static func forEachChild(ofRootAt path: String, file: String, body: (XMLTreeElement) throws -> Void) throws
        -> XMLTreeElement
    {
        // Read here and pushed to the parser: libxml2 opens a path through zlib and liblzma, and
        // would read a compressed file as the document it expands to.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ImportError.unreadable(path: file) }
        defer { close(descriptor) }
        return try withoutActuallyEscaping(body) { body in
            let builder = Builder(file: file, streaming: body)
            var buffer = [CChar](repeating: 0, count: 1 << 16)
            try builder.parse { feed in
                while true {
                    let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else {
                        if count < 0 { throw ImportError.unreadable(path: file) }
                        return
                    }
                    try buffer.withUnsafeBufferPointer { try feed($0.baseAddress!, count) }
                }
            }
            return try builder.finish()
        }
    }

    /// The callbacks' state: the document being built, and the first fault.
    private final class Builder {
        let file: String
        let streaming: ((XMLTreeElement) throws -> Void)?
        let elementLimit: Int
        var context: xmlParserCtxtPtr?
        var building = Building()
        /// Indices in `building` of the open elements, outermost first. A streamed document's
        /// root is kept apart (`streamedRoot`), and each of its children is a document of its own.
        var open: [Int] = []
        var streamedRoot: (name: String, attributes: [String: String], line: Int32)?
        var root: XMLTreeElement?
        var elements = 0
        /// A refusal or a failure of `streaming`: the parser is stopped and this is thrown.
        var failure: (any Error)?
        /// libxml2's first error, with its line.
        var fault: (line: Int, message: String)?

        init(file: String, streaming: ((XMLTreeElement) throws -> Void)?) {
            self.file = file
            self.streaming = streaming
            elementLimit = streaming == nil ? XMLTree.maxElements : XMLTree.maxStreamedElements
        }

        var line: Int32 { context.map { $0.pointee.input.pointee.line } ?? 1 }

        /// Parses what `supply` feeds, chunk by chunk; stops at the first fault or failure.
        func parse(_ supply: ((UnsafePointer<CChar>, Int) throws -> Void) throws -> Void) throws {
            var handler = XMLTree.makeHandler()
            let opaque = Unmanaged.passUnretained(self).toOpaque()
            guard let context = xmlCreatePushParserCtxt(&handler, opaque, nil, 0, nil) else {
                throw ImportError.invalid(file: file, line: 1, path: "", message: "malformed XML: no parser")
            }
            self.context = context
            defer {
                self.context = nil
                xmlFreeParserCtxt(context)
            }
            xmlCtxtUseOptions(context, XMLTree.options)
            // A chunk is a whole file of under 2 GiB or 64 KB of a streamed one; a fault or
            // `xmlStopParser` ends the parsing of the chunk it is met in.
            try supply { chunk, count in
                if failure == nil, fault == nil { xmlParseChunk(context, chunk, Int32(count), 0) }
            }
            if failure == nil, fault == nil { xmlParseChunk(context, nil, 0, 1) }
        }

        func finish() throws -> XMLTreeElement {
            if let failure { throw failure }
            if let fault {
                throw ImportError.invalid(file: file, line: max(1, fault.line), path: "", message: "malformed XML: \(fault.message)")
            }
            guard let root else {
                throw ImportError.invalid(file: file, line: max(1, Int(line)), path: "", message: "malformed XML: no root element")
            }
            return root
        }

        func stop(_ error: any Error) {
            guard failure == nil else { return }
            failure = error
            if let context { xmlStopParser(context) }
        }

        func refuse(_ message: String) {
            stop(ImportError.invalid(file: file, line: max(1, Int(line)), path: "", message: message))
        }

        func start(name: String, attributes: [String: String]) {
            elements += 1
            guard open.count + (streamedRoot == nil ? 0 : 1) < XMLTree.maxDepth else {
                return refuse("elements nest deeper than \(XMLTree.maxDepth) levels")
            }
            guard elements <= elementLimit else {
                return refuse("more than \(elementLimit) elements\(streaming == nil ? "" : " in one child of the root")")
            }
            if streaming != nil, streamedRoot == nil, open.isEmpty {
                streamedRoot = (name, attributes, line)
                return
            }
            open.append(building.add(name: name, attributes: attributes, line: line))
        }

        func end() {
            guard let index = open.popLast() else {
                if let kept = streamedRoot { root = XMLTree.element(name: kept.name, attributes: kept.attributes, line: kept.line) }
                return
            }
            building.ends[index] = Int32(building.names.count)
            guard open.isEmpty else { return }
            let element = XMLTreeElement(document: building.finish(), index: 0)
            guard let streaming, streamedRoot != nil else {
                root = element
                return
            }
            elements = 1
            do { try streaming(element) } catch { stop(error) }
        }

        func characters(_ text: UnsafePointer<xmlChar>, _ count: Int) {
            // A streamed root's own text is the whitespace between its children: not kept.
            guard let index = open.last else { return }
            building.texts[index] += String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        }
    }

    private static func builder(_ context: UnsafeMutableRawPointer?) -> Builder {
        Unmanaged<Builder>.fromOpaque(context!).takeUnretainedValue()
    }

    private static func string(_ start: UnsafePointer<xmlChar>?, _ end: UnsafePointer<xmlChar>?) -> String {
        guard let start, let end else { return "" }
        return String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
    }

    private static func qualifiedName(_ local: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?) -> String {
        guard let local else { return "" }
        guard let prefix else { return String(cString: local) }
        return String(cString: prefix) + ":" + String(cString: local)
    }

    /// The callbacks, with no state of their own: each reaches its `Builder` through the
    /// parser's user data. Made per parse (a C struct is not `Sendable` to share).
    private static func makeHandler() -> xmlSAXHandler {
        var handler = xmlSAXHandler()
        handler.initialized = XML_SAX2_MAGIC
        handler.startElementNs = { context, local, prefix, _, _, _, count, _, attributes in
            var values: [String: String] = [:]
            if count > 0, let attributes {
                // Five pointers an attribute: local name, prefix, URI, value start, value end.
                for at in stride(from: 0, to: Int(count) * 5, by: 5) {
                    values[XMLTree.qualifiedName(attributes[at], attributes[at + 1])] = XMLTree.string(attributes[at + 3], attributes[at + 4])
                }
            }
            XMLTree.builder(context).start(name: XMLTree.qualifiedName(local, prefix), attributes: values)
        }
        handler.endElementNs = { context, _, _, _ in XMLTree.builder(context).end() }
        handler.characters = { context, text, count in
            if let text { XMLTree.builder(context).characters(text, Int(count)) }
        }
        handler.ignorableWhitespace = handler.characters
        handler.cdataBlock = handler.characters
        handler.entityDecl = { context, _, _, _, _, _ in
            XMLTree.builder(context).refuse("malformed XML: the document declares entities, which Sluice does not read")
        }
        handler.reference = { context, _ in
            // An entity neither predefined nor declared here, in a document naming an external
            // DTD (which is not loaded): refused rather than dropped.
            XMLTree.builder(context).refuse("malformed XML: an entity reference, which Sluice does not read")
        }
        handler.serror = { context, error in
            guard let context, let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            let state = XMLTree.builder(context)
            guard state.fault == nil, state.failure == nil else { return }
            let message = error.pointee.message.map { String(cString: $0) } ?? "not well-formed"
            state.fault = (Int(error.pointee.line), message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return handler
    }

    /// An element with no children, as a document of its own.
    private static func element(name: String, attributes: [String: String], line: Int32) -> XMLTreeElement {
        var building = Building()
        let index = building.add(name: name, attributes: attributes, line: line)
        building.ends[index] = 1
        return XMLTreeElement(document: building.finish(), index: 0)
    }

    /// The arrays of a document while it is read.
    private struct Building {
        var names: [String] = []
        var attributes: [[String: String]] = []
        var texts: [String] = []
        var lines: [Int32] = []
        var ends: [Int32] = []

        mutating func add(name: String, attributes: [String: String], line: Int32) -> Int {
            names.append(name)
            self.attributes.append(attributes)
            texts.append("")
            lines.append(line)
            ends.append(0)
            return names.count - 1
        }

        /// The document read so far, and an empty one to read the next into.
        mutating func finish() -> XMLDocumentNodes {
            defer { self = Building() }
            return XMLDocumentNodes(names: names, attributes: attributes, texts: texts, lines: lines, ends: ends)
        }
    }
}
