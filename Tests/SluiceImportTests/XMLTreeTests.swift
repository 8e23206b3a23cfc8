import Foundation
import Testing

@testable import SluiceImport

/// `XMLTree` over libxml2's SAX2 parser: the tree as the importers read it, faults with their line,
/// the limits, nothing read from outside the document, and the streamed form.
@Suite struct XMLTreeTests {
    static func refusal(_ xml: String) -> (line: Int, message: String)? {
        do {
            _ = try XMLTree.parse(Data(xml.utf8), file: "a.xml")
            return nil
        } catch ImportError.invalid(let file, let line, _, let message) {
            #expect(file == "a.xml")
            return (line, message)
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func elementsAttributesTextAndLinesAreRead() throws {
        let root = try XMLTree.parse(
            Data(
                """
                <?xml version="1.0"?>
                <!-- a comment -->
                <annotation version="1.1">
                  <name>tom &amp; jerry &#233;</name>
                  <box label="a&lt;b &amp; c&#233;" xtl="1.5"/>
                  <note><![CDATA[<not an element>]]> and more</note>
                  <?tool ignored?>
                </annotation>
                """.utf8), file: "a.xml")
        #expect(root.name == "annotation" && root.attributes == ["version": "1.1"] && root.line == 3)
        #expect(root.children.map(\.name) == ["name", "box", "note"])
        #expect(root.child("name")?.text == "tom & jerry é")
        #expect(root.child("box")?.attributes == ["label": "a<b & cé", "xtl": "1.5"] && root.child("box")?.children.isEmpty == true)
        #expect(root.child("box")?.line == 5)
        #expect(root.child("note")?.text == "<not an element> and more")
        #expect(root.trimmedText.isEmpty && root.elementCount == 4)
    }

    @Test func aDeclaredEncodingIsReadAsUTF8() throws {
        var bytes = Data(#"<?xml version="1.0" encoding="ISO-8859-1"?><a>caf"#.utf8)
        bytes.append(0xE9)  // é in Latin-1
        bytes.append(contentsOf: "</a>".utf8)
        #expect(try XMLTree.parse(bytes, file: "a.xml").text == "café")
    }

    @Test func aMalformedDocumentIsRefusedAtItsLineWithLibxml2sReason() {
        let mismatched = Self.refusal("<annotation>\n  <object>\n  </objet>\n</annotation>")
        #expect(mismatched?.line == 3)
        #expect(mismatched?.message.hasPrefix("malformed XML: ") == true)
        #expect(mismatched?.message == "malformed XML: Opening and ending tag mismatch: object line 2 and objet")
        #expect(Self.refusal("")?.message.hasPrefix("malformed XML") == true)
        #expect(Self.refusal("not xml at all")?.line == 1)
        #expect(Self.refusal("<a>\n<b>unclosed</b>\n")?.message.hasPrefix("malformed XML") == true)
    }

    @Test func entitiesAreNeitherExpandedNorLoaded() throws {
        // The "billion laughs": each entity ten of the one before.
        var laughs = #"<!DOCTYPE a [<!ENTITY l0 "ha">"#
        for level in 1...9 {
            laughs += "<!ENTITY l\(level) \"" + String(repeating: "&l\(level - 1);", count: 10) + "\">"
        }
        laughs += "]>\n<a>&l9;</a>"
        // Refused at the first declaration, before any of them is expanded.
        #expect(Self.refusal(laughs)?.message.contains("declares entities") == true)
        #expect(Self.refusal("<!DOCTYPE a [<!ENTITY x \"y\">]>\n<a>&x;</a>")?.message.contains("declares entities") == true)

        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-xml-\(UUID().uuidString)")
        try "the secret".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let external = "<!DOCTYPE a [<!ENTITY x SYSTEM \"file://\(secret.path)\">]>\n<a>&x;</a>"
        let refused = Self.refusal(external)
        #expect(refused?.message.contains("declares entities") == true)
        #expect(refused?.message.contains("secret") == false)

        #expect(Self.refusal("<a>&undeclared;</a>")?.message.hasPrefix("malformed XML") == true)
        // With an external DTD (never loaded), an undeclared entity is not a fault to libxml2.
        #expect(Self.refusal("<!DOCTYPE a SYSTEM \"a.dtd\">\n<a>&undeclared;</a>")?.message.contains("entity reference") == true)
        // A DOCTYPE without entities is read.
        #expect(try XMLTree.parse(Data("<!DOCTYPE a>\n<a>x</a>".utf8), file: "a.xml").text == "x")
    }

    @Test func nestingAndSizeAreLimited() throws {
        let deepest = String(repeating: "<e>", count: XMLTree.maxDepth) + String(repeating: "</e>", count: XMLTree.maxDepth)
        #expect(try XMLTree.parse(Data(deepest.utf8), file: "a.xml").elementCount == XMLTree.maxDepth)
        let deeper = "<e>" + deepest + "</e>"
        #expect(Self.refusal(deeper)?.message == "elements nest deeper than \(XMLTree.maxDepth) levels")

        let most = "<r>" + String(repeating: "<e/>", count: XMLTree.maxElements - 1) + "</r>"
        #expect(try XMLTree.parse(Data(most.utf8), file: "a.xml").elementCount == XMLTree.maxElements)
        let more = "<r>" + String(repeating: "<e/>", count: XMLTree.maxElements) + "</r>"
        #expect(Self.refusal(more)?.message == "more than \(XMLTree.maxElements) elements")
    }

    @Test func aStreamedDocumentHandsOverEachChildOfItsRootAndStopsOnAThrow() throws {
        struct Stop: Error {}
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-xml-\(UUID().uuidString).xml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var xml = "<annotations version=\"1.1\">\n"
        for index in 0..<1_000 { xml += "  <image id=\"\(index)\"><box label=\"a\">\(index)</box></image>\n" }
        xml += "</annotations>\n"
        try xml.write(toFile: path, atomically: true, encoding: .utf8)

        var seen: [XMLTreeElement] = []
        let root = try XMLTree.forEachChild(ofRootAt: path, file: "annotations.xml") { seen.append($0) }
        #expect(root.name == "annotations" && root.attributes == ["version": "1.1"] && root.children.isEmpty)
        #expect(root.text.isEmpty, "the whitespace between the children is not kept")
        #expect(seen.map { $0.attributes["id"] } == (0..<1_000).map { String($0) })
        #expect(seen[999].line == 1_001 && seen[999].child("box")?.text == "999")

        var count = 0
        #expect(throws: Stop.self) {
            try XMLTree.forEachChild(ofRootAt: path, file: "annotations.xml") { _ in
                count += 1
                if count == 10 { throw Stop() }
            }
        }
        #expect(count == 10, "reading stopped at the throw")

        // A compressed document is not expanded: its bytes are not XML.
        let compressed = path + ".gz"
        defer { try? FileManager.default.removeItem(atPath: compressed) }
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -c '\(path)' > '\(compressed)'"]
        try gzip.run()
        gzip.waitUntilExit()
        #expect(gzip.terminationStatus == 0)
        do {
            try XMLTree.forEachChild(ofRootAt: compressed, file: "annotations.xml") { _ in }
            Issue.record("a gzip file was read as the XML it expands to")
        } catch ImportError.invalid(_, _, _, let message) {
            #expect(message.hasPrefix("malformed XML"))
        }

        #expect(throws: ImportError.unreadable(path: "missing.xml")) {
            try XMLTree.forEachChild(ofRootAt: path + ".missing", file: "missing.xml") { _ in }
        }
    }
}
