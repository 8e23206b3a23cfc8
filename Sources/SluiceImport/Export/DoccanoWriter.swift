import Foundation
import SluiceModel
import SluiceStore

/// Doccano's JSONL out: `all.jsonl` (the name in Doccano's export archive), a line per text
/// file, so that Doccano imports it and `sluice import doccano` reads it back.
///
/// Spans are written in the sequence-labelling form `"label": [[start, end, "LABEL"], …]`; a
/// file imported with relations (`doccano_relations`) in the relation form, `entities` with
/// their ids and `relations` as they were; categories (global tags) as `"label": [names]`, or
/// beside the relation form's entities. The metadata `doccano_id` becomes `id` again and other
/// metadata members top-level members. Files that are not text, and instances that are neither
/// spans nor tags, are counted as skipped.
struct DoccanoWriter: FolderFormatWriter {
    let handle: FileHandle
    let media: MediaStore
    var files = 0
    var instances = 0
    var skipped = 0

    init(directory: String, media: MediaStore) throws {
        let path = (directory as NSString).appendingPathComponent("all.jsonl")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ExportError.unwritable(path)
        }
        self.handle = handle
        self.media = media
    }

    mutating func add(_ item: Item) throws {
        let file = item.file
        guard file.type == .text, let sha = file.media.sha256 else {
            skipped += 1 + item.instances.count
            return
        }
        guard let data = FileManager.default.contents(atPath: media.path(for: sha)),
            let text = String(data: data, encoding: .utf8)
        else { throw ExportError.missing(file: file.name, what: "its text is not in the media store as UTF-8") }
        var document: [String: JSONValue] = [:]
        for (key, value) in file.metadata where !DoccanoDocument.reserved.contains(key) { document[key] = value }
        document["doccano_id"] = nil
        document["doccano_relations"] = nil
        if let id = file.metadata["doccano_id"] { document["id"] = id }
        document["text"] = .string(text)
        let spans = item.instances.filter { $0.kind == .span && $0.geometry.span != nil }
        let categories = item.instances.filter { $0.kind == .global }.map { JSONValue.string($0.label ?? "") }
        skipped += item.instances.count - spans.count - categories.count
        let relations = file.metadata["doccano_relations"]
        if relations != nil || (!spans.isEmpty && !categories.isEmpty) {
            // The relation form: the only one with a place for categories beside spans.
            document["entities"] = .array(spans.enumerated().map { index, instance in
                let span = instance.geometry.span!
                return .object([
                    "id": instance.metadata["doccano_id"] ?? .number(Double(index)), "label": .string(instance.label ?? ""),
                    "start_offset": .number(Double(span.start)), "end_offset": .number(Double(span.end)),
                ])
            })
            document["relations"] = relations ?? .array([])
            if !categories.isEmpty { document["label"] = .array(categories) }
        } else if !spans.isEmpty {
            document["label"] = .array(spans.map { instance in
                let span = instance.geometry.span!
                return .array([.number(Double(span.start)), .number(Double(span.end)), .string(instance.label ?? "")])
            })
        } else {
            document["label"] = .array(categories)
        }
        var output = JSONOutput()
        output.value(.object(document))
        output.raw("\n")
        try handle.write(contentsOf: output.bytes)
        files += 1
        instances += spans.count + categories.count
    }

    mutating func finish() throws {
        try handle.close()
    }
}
