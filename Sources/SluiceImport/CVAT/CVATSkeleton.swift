import Foundation
import SluiceModel

/// CVAT's skeletons: a `<skeleton>` holds one `<points>` element per point of its label, each
/// labelled with the point's name and marked `outside` (not placed) or `occluded`. Sluice keeps
/// one `keypoints` instance with the label's points in order, as COCO does: `outside` is
/// visibility 0, `occluded` 1, else 2. The label's drawing (`<svg>` in `<meta>`) gives the edges.
enum CVATSkeleton {
    /// A `<skeleton>`'s points in the order of `names` (those it does not hold: 0, 0, 0), and
    /// the attributes of each point that has some, by name.
    static func points(of element: XMLTreeElement, path: String, file: String, names: [String], meta: CVATMeta) throws
        -> (keypoints: [Keypoint], attributes: [String: JSONValue])
    {
        var keypoints = [Keypoint](repeating: Keypoint(x: 0, y: 0, visibility: 0), count: names.count)
        var attributes: [String: JSONValue] = [:]
        var seen = Set<Int>()
        var count = 0
        for child in element.children where child.name != "attribute" {
            count += 1
            let childPath = "\(path)/\(child.name)[\(count)]"
            func fault(_ field: String, _ message: String) -> ImportError {
                .invalid(file: file, line: child.line, path: field.isEmpty ? childPath : "\(childPath)/@\(field)", message: message)
            }
            func flag(_ name: String) throws -> Bool {
                switch child.attributes[name]?.trimmed() {
                case nil, "0", "false", "False": false
                case "1", "true", "True": true
                case let other?: throw fault(name, "expected 0 or 1, got '\(other)'")
                }
            }
            guard child.name == "points" else { throw fault("", "a skeleton holds <points>, one per point of its label") }
            let name = child.attributes["label"] ?? ""
            guard let index = names.firstIndex(of: name) else {
                throw fault("label", "'\(name)' is not a point of the skeleton (its points: \(names.joined(separator: ", ")))")
            }
            guard seen.insert(index).inserted else { throw fault("label", "the point '\(name)' is in the skeleton twice") }
            let text = child.attributes["points"] ?? ""
            let xy = text.split(separator: ",").map { Double($0.trimmed()) }
            guard xy.count == 2, let x = xy[0], let y = xy[1], x.isFinite, y.isFinite else {
                throw fault("points", "expected one point 'x,y', got '\(text)'")
            }
            keypoints[index] = Keypoint(x: x, y: y, visibility: try flag("outside") ? 0 : try flag("occluded") ? 1 : 2)
            var own: [String: JSONValue] = [:]
            for attribute in child.children("attribute") {
                guard let attributeName = attribute.attributes["name"], !attributeName.isEmpty else {
                    throw ImportError.invalid(file: file, line: attribute.line, path: "\(childPath)/attribute", message: "an attribute needs a name")
                }
                own[attributeName] = CVATShape.typed(attribute.text, as: meta.attributeType(label: name, attribute: attributeName))
            }
            if !own.isEmpty { attributes[name] = .object(own) }
        }
        return (keypoints, attributes)
    }

    /// The edges of a skeleton label's drawing as 1-based pairs of `pointNames` (COCO's
    /// `skeleton`): CVAT's `<line data-node-from data-node-to>` join `<circle data-node-id
    /// data-label-name>`s. Nil when the drawing has none that name two of the points.
    static func edges(svg: String, pointNames: [String]) -> [[Int]]? {
        var nodes: [String: Int] = [:]
        var lines: [(String, String)] = []
        for tag in svg.split(separator: "<").map(tagAttributes) {
            if let node = tag["data-node-id"], let name = tag["data-label-name"], let index = pointNames.firstIndex(of: name) {
                nodes[node] = index + 1
            } else if let from = tag["data-node-from"], let to = tag["data-node-to"] {
                lines.append((from, to))
            }
        }
        let edges = lines.compactMap { line in nodes[line.0].flatMap { a in nodes[line.1].map { [a, $0] } } }
        return edges.isEmpty ? nil : edges
    }

    /// The `name="value"` attributes of one tag's text (what follows its `<`).
    private static func tagAttributes(_ text: Substring) -> [String: String] {
        var attributes: [String: String] = [:]
        let tag = text.prefix { $0 != ">" }
        for match in tag.matches(of: /([A-Za-z_:][\w.:-]*)\s*=\s*"([^"]*)"/) {
            attributes[String(match.output.1)] = entitiesDecoded(match.output.2)
        }
        return attributes
    }

    /// The text of an SVG attribute with XML's five named entities decoded (a point named
    /// `a & b` is `a &amp; b` there).
    private static func entitiesDecoded(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = String(text)
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: character)
        }
        return out
    }

    /// A drawing of `names` (on a circle in CVAT's 100 × 100 canvas) with `edges`, for `<meta>`,
    /// which CVAT needs to show the skeleton and which `edges(svg:pointNames:)` reads back.
    static func svg(names: [String], edges: [[Int]]) -> String {
        func position(_ index: Int) -> (x: Double, y: Double) {
            let angle = 2 * Double.pi * Double(index) / Double(max(names.count, 1))
            return (((50 + 40 * sin(angle)) * 100).rounded() / 100, ((50 - 40 * cos(angle)) * 100).rounded() / 100)
        }
        var svg = ""
        for edge in edges where edge.count == 2 && names.indices.contains(edge[0] - 1) && names.indices.contains(edge[1] - 1) {
            let (a, b) = (position(edge[0] - 1), position(edge[1] - 1))
            svg += "<line x1=\"\(a.x)\" y1=\"\(a.y)\" x2=\"\(b.x)\" y2=\"\(b.y)\" stroke=\"black\" data-type=\"edge\" "
            svg += "data-node-from=\"\(edge[0])\" stroke-width=\"0.5\" data-node-to=\"\(edge[1])\"></line>"
        }
        for (index, name) in names.enumerated() {
            let p = position(index)
            svg += "<circle r=\"1.5\" stroke=\"black\" fill=\"#b3b3b3\" cx=\"\(p.x)\" cy=\"\(p.y)\" stroke-width=\"0.1\" "
            svg += "data-type=\"element node\" data-element-id=\"\(index + 1)\" data-node-id=\"\(index + 1)\" "
            svg += "data-label-name=\"\(VOCWriter.escaped(name))\"></circle>"
        }
        return svg
    }
}
