import CLibXML2
import Foundation

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

/// XML read with libxml2's streaming reader (`xmlTextReader`), the library Foundation's
/// `XMLParser` wraps on Linux, called directly: `XMLParser` spent more time bridging each
/// callback (a delegate looked up through a weak reference, a dictionary of attributes per
/// element) than libxml2 spent parsing, and the XML formats' imports were bound by it.
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

    private static let options = Int32(bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_BIG_LINES.rawValue)

    /// The root element of `data`; a fault names `file` and its line.
    static func parse(_ data: Data, file: String) throws -> XMLTreeElement {
        guard data.count < Int32.max else {
            throw ImportError.invalid(file: file, line: 1, path: "", message: "malformed XML: larger than 2 GiB")
        }
        return try data.withUnsafeBytes { bytes in
            let start = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
            return try read(xmlReaderForMemory(start, Int32(bytes.count), nil, nil, options), file: file, streaming: nil)
        }
    }

    /// Reads the document at `path` one child of its root at a time, handing each to `body` when
    /// it closes and then dropping it: memory is bounded by the largest child (a CVAT `<image>`
    /// or `<track>`), never by the file. Returns the root with its attributes and no children.
    /// A fault, or an error `body` throws, stops the reading; faults name `file` and the line.
    @discardableResult
    static func forEachChild(ofRootAt path: String, file: String, body: (XMLTreeElement) throws -> Void) throws
        -> XMLTreeElement
    {
        guard FileManager.default.isReadableFile(atPath: path) else { throw ImportError.unreadable(path: file) }
        return try withoutActuallyEscaping(body) { body in
            try read(xmlReaderForFile(path, nil, options), file: file, streaming: body)
        }
    }

    private static func read(
        _ reader: xmlTextReaderPtr?, file: String, streaming: ((XMLTreeElement) throws -> Void)?
    ) throws -> XMLTreeElement {
        let fault = UnsafeMutablePointer<sluice_xml_fault>.allocate(capacity: 1)
        fault.initialize(to: sluice_xml_fault())
        defer { fault.deallocate() }
        guard let reader else {
            throw ImportError.invalid(file: file, line: 1, path: "", message: "malformed XML: the document is empty")
        }
        defer { xmlFreeTextReader(reader) }
        sluice_xml_record_faults(reader, fault)

        func refusal(_ message: String, line: Int? = nil) -> ImportError {
            .invalid(file: file, line: max(1, line ?? Int(xmlTextReaderGetParserLineNumber(reader))), path: "", message: message)
        }
        let elementLimit = streaming == nil ? maxElements : maxStreamedElements
        var stack: [XMLTreeElement] = []
        var root: XMLTreeElement?
        var elements = 0

        func close() throws {
            let element = stack.removeLast()
            if stack.isEmpty {
                root = element
            } else if stack.count == 1, let streaming {
                elements = 1
                try streaming(element)
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }

        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            if status < 0 || fault.pointee.set != 0 {
                let message = withUnsafeBytes(of: fault.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                throw refusal(
                    "malformed XML: \(message.isEmpty ? "not well-formed" : message)",
                    line: fault.pointee.set != 0 ? Int(fault.pointee.line) : nil)
            }
            switch UInt32(xmlTextReaderNodeType(reader)) {
            case XML_READER_TYPE_ELEMENT.rawValue:
                elements += 1
                guard stack.count < maxDepth else { throw refusal("elements nest deeper than \(maxDepth) levels") }
                guard elements <= elementLimit else {
                    throw refusal("more than \(elementLimit) elements\(streaming == nil ? "" : " in one child of the root")")
                }
                let name = string(xmlTextReaderConstName(reader))
                let line = Int(xmlGetLineNo(xmlTextReaderCurrentNode(reader)))
                let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
                var attributes: [String: String] = [:]
                while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                    attributes[string(xmlTextReaderConstName(reader))] = string(xmlTextReaderConstValue(reader))
                }
                stack.append(XMLTreeElement(name: name, attributes: attributes, text: "", children: [], line: line))
                if isEmpty { try close() }
            case XML_READER_TYPE_END_ELEMENT.rawValue:
                guard !stack.isEmpty else { break }
                try close()
            case XML_READER_TYPE_TEXT.rawValue, XML_READER_TYPE_CDATA.rawValue, XML_READER_TYPE_WHITESPACE.rawValue,
                XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue:
                // A streamed root's own text is the whitespace between its children: not kept.
                guard !stack.isEmpty, streaming == nil || stack.count > 1 else { break }
                stack[stack.count - 1].text += string(xmlTextReaderConstValue(reader))
            case XML_READER_TYPE_DOCUMENT_TYPE.rawValue:
                if sluice_xml_declares_entities(reader) != 0 {
                    throw refusal("malformed XML: the document declares entities, which Sluice does not read")
                }
            case XML_READER_TYPE_ENTITY_REFERENCE.rawValue:
                throw refusal("malformed XML: an entity reference, which Sluice does not read")
            default:
                break  // comments, processing instructions
            }
        }
        guard let root else { throw refusal("malformed XML: no root element") }
        return root
    }

    private static func string(_ text: UnsafePointer<xmlChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text)
    }
}
