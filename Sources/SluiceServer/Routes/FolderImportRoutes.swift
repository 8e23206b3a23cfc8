import Foundation
import Hummingbird
import NIOPosix
import SluiceImport
import SluiceModel
import SluiceStore
import SluiceThumbnails

/// `POST /projects/{project}/imports/{format}` for the folder formats (voc, yolo, labelme, cvat,
/// doccano): what `sluice import FORMAT PATH --host` asks for after uploading the folder's
/// files content-addressed and a listing of them (`UploadedTree`). The server lays the folder
/// out again and runs the same importer as `--data` does: one transaction, the fault named by
/// file, line and element, progress and the summary as NDJSON lines (as the COCO route).
struct FolderImportRoutes {
    let api: APIContext

    struct Body: Decodable {
        var dataset: String
        var treeSHA256: String
        /// The file or folder to import, relative to the tree; its root when absent.
        var path: String?
        var images: String?
        var video: String?
        enum CodingKeys: String, CodingKey {
            case dataset, path, images, video
            case treeSHA256 = "tree_sha256"
        }
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        let store = api.store
        registry.post("/projects/{project}/imports/{format}") { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let name = context.parameters.get("format") ?? ""
            guard let format = FolderImport.Format(rawValue: name) else {
                throw APIError.notFound(
                    "no import of format '\(name)': formats are coco, \(FolderImport.Format.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let body = try await request.decodeBody(as: Body.self, context: context, limits: api.configuration)
            guard !body.dataset.isEmpty, body.dataset.utf8.count <= 256 else {
                throw StoreError.invalidField(FieldError(path: "dataset", message: "a dataset name has 1 to 256 bytes"))
            }
            let tree = try await NIOThreadPool.singleton.runIfActive {
                try UploadedTree(listing: body.treeSHA256, media: store.media, field: "tree_sha256")
            }
            // Each place named must be in the tree: the importer then never looks outside it.
            for (field, value) in [("path", body.path), ("images", body.images), ("video", body.video)] {
                guard let value else { continue }
                if field != "path", !format.options.contains(field) {
                    throw StoreError.invalidField(FieldError(path: field, message: "a \(format.rawValue) import takes no \(field)"))
                }
                if let problem = UploadedTree.problem(of: value) {
                    throw StoreError.invalidField(FieldError(path: field, message: "'\(value.prefix(200))' \(problem)"))
                }
                guard tree.holds(value) else {
                    throw StoreError.invalidField(FieldError(path: field, message: "'\(value)' is not in the uploaded tree"))
                }
            }
            return ImportRoutes.streamed(api) { progress, isCancelled in
                let root = UploadedTree.stagingRoot(in: store.media)
                defer { try? FileManager.default.removeItem(at: root) }
                func inTree(_ relative: String?) -> String? { relative.map { root.appendingPathComponent($0).path } }
                let path = inTree(body.path) ?? root.path
                do {
                    try await NIOThreadPool.singleton.runIfActive { try tree.stage(at: root, from: store.media) }
                    return try await FolderImport.run(
                        format, path: path, images: inTree(body.images), video: inTree(body.video), store: store,
                        project: project.id, dataset: body.dataset, progress: progress, isCancelled: isCancelled)
                } catch {
                    // Faults name files relative to the tree, as the client sent them: never
                    // where the server laid the tree out.
                    let said = "\(error)".replacingOccurrences(of: root.path + "/", with: "")
                    throw StagedImportFailure(description: said.replacingOccurrences(of: root.path, with: "."))
                }
            }
        }
    }
}

struct StagedImportFailure: Error, CustomStringConvertible {
    var description: String
}

/// The folder formats' importers, as `sluice import FORMAT --data` and the server's import route
/// run them: one place that knows which options each takes and how masks are decoded.
public enum FolderImport {
    public enum Format: String, CaseIterable, Sendable {
        case voc, yolo, labelme, cvat, doccano

        /// The body members beside `path` that name places in the tree for this format.
        public var options: Set<String> {
            switch self {
            case .voc, .labelme: ["images"]
            case .cvat: ["images", "video"]
            case .yolo, .doccano: []
            }
        }
    }

    /// Imports `path` (a folder, or a file for CVAT and Doccano) in one transaction; `images`
    /// and `video` are the `--images` and `--video` of the formats that take them.
    public static func run(
        _ format: Format, path: String, images: String?, video: String?, store: any Store, project: String, dataset: String,
        progress: @escaping @Sendable (ImportProgress) -> Void, isCancelled: (@Sendable () -> Bool)? = nil
    ) async throws -> ImportSummary {
        switch format {
        case .voc:
            var importer = VOCImporter(
                imagesDirectory: images, maskDecoder: { try MaskImage.readSamples(at: $0, maxPixels: VOCImporter.maxMaskPixels) },
                progress: progress)
            importer.isCancelled = isCancelled
            return try await importer.importFolder(at: path, into: store, projectID: project, datasetName: dataset)
        case .yolo:
            var importer = YOLOImporter(progress: progress)
            importer.isCancelled = isCancelled
            return try await importer.importFolder(at: path, into: store, projectID: project, datasetName: dataset)
        case .labelme:
            var importer = LabelMeImporter(
                imagesDirectory: images, maskDecoder: { try MaskImage.read(at: $0, maxPixels: LabelMeImporter.maxMaskPixels) },
                progress: progress)
            importer.isCancelled = isCancelled
            return try await importer.importFolder(at: path, into: store, projectID: project, datasetName: dataset)
        case .cvat:
            var importer = CVATImporter(imagesDirectory: images, videoPath: video, progress: progress)
            importer.isCancelled = isCancelled
            return try await importer.importAnnotations(at: path, into: store, projectID: project, datasetName: dataset)
        case .doccano:
            var importer = DoccanoImporter(progress: progress)
            importer.isCancelled = isCancelled
            return try await importer.importPath(path, into: store, projectID: project, datasetName: dataset)
        }
    }
}
