import Foundation
import SluiceModel
import SluiceStore

/// Imports Doccano's JSONL export (a `.jsonl` file, or a folder of them as Doccano's export
/// archive unpacks) into a dataset, in one transaction, one line in memory at a time.
///
/// Each line becomes a text file: its text stored as UTF-8 media (content-addressed, so a text
/// seen twice is stored once), named `STEM/ID.txt` after the JSONL file's stem and Doccano's
/// `id` (`STEM/line-N.txt` without one). Spans become `span` instances (the relation form's
/// entity `id` kept as the instance metadata `doccano_id`), categories `global` instances,
/// relations the file metadata `doccano_relations`, the document `id` the metadata `doccano_id`,
/// and every other member (`meta`, `Comments`, …) metadata under its own name.
public struct DoccanoImporter: Sendable {
    public var progress: (@Sendable (ImportProgress) -> Void)?
    /// Asked before each file; true stops the import with nothing kept (a server whose client went away).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(progress: (@Sendable (ImportProgress) -> Void)? = nil) {
        self.progress = progress
    }

    public func importPath(_ path: String, into store: any Store, projectID: String, datasetName: String)
        async throws -> ImportSummary
    {
        guard try await store.project(id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        let files = try Self.jsonlFiles(at: path)
        let totalBytes = files.reduce(0) { $0 + FolderFiles.size($1.path) }
        let progress = self.progress
        return try await store.timedImport(projectID: projectID, datasetName: datasetName) { writer in
            var run = FolderImportRun(writer: writer, totalBytes: totalBytes, progress: progress, isCancelled: isCancelled)
            let staging = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-doccano-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: staging) }
            for file in files {
                let stem = ((file.relative as NSString).lastPathComponent as NSString).deletingPathExtension
                var read = 0
                try JSONLines(path: file.path, relative: file.relative).forEach { number, line, bytesRead in
                    let document = try DoccanoDocument(line: line, number: number, file: file.relative)
                    try Self.add(document, name: Self.name(stem: stem, document: document, line: number), staging: staging, to: &run)
                    run.advance(bytes: bytesRead - read)
                    read = bytesRead
                }
            }
            return run.finish()
        }
    }

    /// The JSONL files to read: `path` itself, or the `*.jsonl` files directly in the folder.
    static func jsonlFiles(at path: String) throws -> [(path: String, relative: String)] {
        if FolderFiles.isDirectory(path) {
            let names = FolderFiles.list(path, ext: "jsonl")
            guard !names.isEmpty else {
                throw ImportError.invalid(file: ".", line: 0, path: "", message: "no Doccano export: the folder holds no .jsonl file")
            }
            return try names.map { (try ConfinedPath.resolve($0, in: path, field: "jsonl file"), $0) }
        }
        guard FileManager.default.isReadableFile(atPath: path) else { throw ImportError.unreadable(path: path) }
        return [(path, (path as NSString).lastPathComponent)]
    }

    /// Longest string `id` used in a file's name; a longer one names the file by its line.
    static let maxNamedID = 128

    /// `STEM/ID.txt`, or `STEM/line-N.txt` when the id is not a plain name: a stranger's id
    /// must not make a path (`/`, `\`, `..`), a control character or an outsized name.
    static func name(stem: String, document: DoccanoDocument, line: Int) -> String {
        func plain(_ s: String) -> Bool {
            !s.isEmpty && s.utf8.count <= maxNamedID && s != "." && s != ".."
                && !s.unicodeScalars.contains { $0 == "/" || $0 == "\\" || $0.properties.generalCategory == .control }
        }
        let id: String? =
            switch document.documentID {
            case .number(let n)?: Int64(exactly: n).map(String.init)
            case .string(let s)? where plain(s): s
            default: nil
            }
        return "\(stem)/\(id ?? "line-\(line)").txt"
    }

    static func add(_ document: DoccanoDocument, name: String, staging: String, to run: inout FolderImportRun) throws {
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let textPath = (staging as NSString).appendingPathComponent("document.txt")
        guard FileManager.default.createFile(atPath: textPath, contents: Data(document.text.utf8)) else {
            throw ImportError.unreadable(path: textPath)
        }
        var metadata = document.metadata
        if let id = document.documentID { metadata["doccano_id"] = id }
        if let relations = document.relations { metadata["doccano_relations"] = .array(relations) }
        let file = try run.addFile(name: name, mediaPath: textPath, type: .text, metadata: metadata)
        for span in document.spans {
            var instance = NewInstance(
                fileID: file.id, labelID: try run.label(span.label), kind: .span, bbox: nil,
                geometry: Geometry(span: TextSpan(start: span.start, end: span.end)))
            if let id = span.entityID { instance.metadata["doccano_id"] = id }
            try run.addInstance(instance)
        }
        for category in document.categories {
            try run.addInstance(NewInstance(fileID: file.id, labelID: try run.label(category), kind: .global, bbox: nil))
        }
    }
}
