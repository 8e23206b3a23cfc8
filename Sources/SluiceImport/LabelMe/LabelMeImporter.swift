import Foundation
import SluiceModel
import SluiceStore

/// Imports a LabelMe folder into a dataset, in one transaction, one annotation file in memory
/// at a time. The folder holds one of LabelMe's two forms, told apart by content:
///
/// - the labelme tool's JSON (wkentaro/labelme): a `*.json` per image, anywhere below the
///   folder, its `imagePath` relative to the JSON. Shapes map to instances: `rectangle` → box,
///   `polygon` → polygon, `point` → point, `line` and `linestrip` → line, `circle` → ellipse
///   (equal radii); a shape's `flags` become boolean attributes, `group_id` and `description`
///   instance metadata (`labelme_group_id`, `labelme_description`), the image's `flags` the
///   file's metadata `labelme_flags`. A JSON whose image is not on disk stores its `imageData`.
/// - MIT LabelMe XML (`Annotations/**/*.xml`, `Images/`, `Masks/`, as Datumaro writes it): see
///   `LabelMeXMLAnnotation`; a `<segm>` becomes a mask instance (COCO RLE) decoded by
///   `maskDecoder`, `<parts>` the metadata `labelme_id`, `labelme_hasparts` and
///   `labelme_ispartof`, `<folder>` (or the subfolder below `Annotations/`) the file's `subset`.
public struct LabelMeImporter: Sendable {
    /// Where the images are: for the XML form instead of `Images/`, for the JSON form the folder
    /// each `imagePath` is relative to instead of the JSON's own.
    public var imagesDirectory: String?
    /// Decodes `Masks/*.png`; without one, an XML object with a `<segm>` is refused.
    public var maskDecoder: MaskDecoder?
    public var progress: (@Sendable (ImportProgress) -> Void)?
    /// Asked before each file; true stops the import with nothing kept (a server whose client went away).
    public var isCancelled: (@Sendable () -> Bool)?

    public init(
        imagesDirectory: String? = nil, maskDecoder: MaskDecoder? = nil,
        progress: (@Sendable (ImportProgress) -> Void)? = nil
    ) {
        self.imagesDirectory = imagesDirectory
        self.maskDecoder = maskDecoder
        self.progress = progress
    }

    public func importFolder(at root: String, into store: any Store, projectID: String, datasetName: String)
        async throws -> ImportSummary
    {
        guard try await store.project(id: projectID) != nil else { throw StoreError.projectNotFound(projectID) }
        let layout = try LabelMeLayout(root: root)
        let importer = self
        return try await store.timedImport(projectID: projectID, datasetName: datasetName) { writer in
            var run = FolderImportRun(writer: writer, totalBytes: layout.annotationBytes, progress: importer.progress, isCancelled: importer.isCancelled)
            let media = writer.media
            let files = layout.annotationFiles
            switch layout.form {
            case .xml:
                let prepared = Lookahead(count: files.count) { index in try importer.prepareXML(files[index], root: root, media: media) }
                defer { prepared.stop() }
                for _ in files {
                    try Task.checkCancellation()
                    try importer.importXML(try prepared.next(), into: &run)
                }
            case .json:
                let prepared = Lookahead(count: files.count) { index in
                    try importer.prepareJSON(files[index], root: root, media: media)
                }
                defer { prepared.stop() }
                for _ in files {
                    try Task.checkCancellation()
                    try importer.importJSON(try prepared.next(), into: &run)
                }
            }
            return run.finish()
        }
    }
}

/// LabelMe's two forms.
enum LabelMeForm: String, Sendable {
    /// MIT LabelMe: `Annotations/**/*.xml` with a root `<annotation>`.
    case xml
    /// The labelme tool: `*.json` objects with a `shapes` array.
    case json
}

/// The annotation files of a LabelMe folder and which form they are in, found before the
/// transaction starts.
struct LabelMeLayout: Sendable {
    let form: LabelMeForm
    /// Paths relative to the folder, sorted.
    let annotationFiles: [String]
    let annotationBytes: Int

    /// Deepest folder searched below the root.
    static let maxDepth = 16
    /// Bytes read from each candidate to tell the forms apart.
    static let sniffBytes = 64 << 10

    init(root: String) throws {
        guard FolderFiles.isDirectory(root) else { throw ImportError.unreadable(path: root) }
        var xml: [String] = []
        var json: [String] = []
        for relative in FolderWalk.files(in: root, maxDepth: Self.maxDepth) {
            switch FolderWalk.pathExtension(relative).lowercased() {
            case "xml": xml.append(relative)
            case "json": json.append(relative)
            default: break
            }
        }
        // By content, not by name: an XML whose root is <annotation> is MIT LabelMe; a JSON
        // object with a `shapes` member is the labelme tool's.
        let firstXML = xml.first { Self.sniff((root as NSString).appendingPathComponent($0)).contains("<annotation") }
        let firstJSON = json.first {
            let head = Self.sniff((root as NSString).appendingPathComponent($0))
            return head.drop { $0.isWhitespace || $0 == "\u{FEFF}" }.first == "{" && head.contains("\"shapes\"")
        }
        switch (firstXML, firstJSON) {
        case (let x?, let j?):
            throw ImportError.invalid(
                file: j, line: 0, path: "",
                message: "the folder holds both LabelMe forms (MIT XML such as \(x) and labelme JSON); import one at a time")
        case (_?, nil):
            form = .xml
            annotationFiles = xml
        case (nil, _?):
            form = .json
            annotationFiles = json
        case (nil, nil):
            throw ImportError.invalid(
                file: ".", line: 0, path: "",
                message: "no LabelMe annotations: neither an XML with a root <annotation> nor a labelme JSON with `shapes`")
        }
        annotationBytes = annotationFiles.reduce(0) { $0 + FolderFiles.size((root as NSString).appendingPathComponent($1)) }
    }

    private static func sniff(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: sniffBytes)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
