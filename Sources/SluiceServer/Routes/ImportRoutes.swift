import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import SluiceImport
import SluiceModel
import SluiceStore
import Synchronization

/// `/projects/{project}/imports/coco`: an import through the server (`sluice import coco --host`).
///
/// The client first uploads, content-addressed, the images the server lacks, the annotation
/// file, and a media list naming each image's SHA-256 (tab-separated lines `sha256<TAB>file_name`);
/// then asks for the import here. The import is one transaction, as with `--data`: all or
/// nothing, the fault named by JSON path and line. The reply is an NDJSON stream: a
/// `progress` line about twice a second, then one `summary` or `error` line. A client that
/// goes away stops the import, and nothing of it is kept. Readers are not blocked meanwhile
/// (SQLite's WAL: one writer, readers at their snapshot).
struct ImportRoutes {
    let api: APIContext

    struct ImportCOCO: Decodable {
        var dataset: String
        var annotationsSHA256: String
        var mediaSHA256: String?
        enum CodingKeys: String, CodingKey {
            case dataset
            case annotationsSHA256 = "annotations_sha256"
            case mediaSHA256 = "media_sha256"
        }
    }

    /// Set when the client went away; read by the importer between batches of records.
    final class Cancellation: Sendable {
        let flag = Atomic<Bool>(false)
        func cancel() { flag.store(true, ordering: .relaxed) }
        var isCancelled: Bool { flag.load(ordering: .relaxed) }
    }

    enum Event: Sendable {
        case progress(ImportProgress)
        case summary(ImportSummary)
        case failure(String)
    }

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        let store = api.store
        registry.post("/projects/{project}/imports/coco") { request, context in
            let project = try await ProjectRoutes.project(store, context)
            let body = try await request.decodeBody(as: ImportCOCO.self, context: context, limits: api.configuration)
            guard !body.dataset.isEmpty, body.dataset.utf8.count <= 256 else {
                throw StoreError.invalidField(FieldError(path: "dataset", message: "a dataset name has 1 to 256 bytes"))
            }
            guard MediaStore.isSHA256(body.annotationsSHA256), store.media.contains(body.annotationsSHA256) else {
                throw StoreError.invalidField(
                    FieldError(path: "annotations_sha256", message: "the server holds no upload with this SHA-256"))
            }
            let media: [String: String]?
            if let list = body.mediaSHA256 { media = try await Self.mediaList(store.media, sha256: list) } else { media = nil }
            let annotations = store.media.path(for: body.annotationsSHA256)
            return Self.streamed(api) { progress, isCancelled in
                try await COCOImporter(media: media.map { MediaSource.addressed($0) }, progress: progress, isCancelled: isCancelled)
                    .importFile(at: annotations, into: store, projectID: project.id, datasetName: body.dataset)
            }
        }
        FolderImportRoutes(api: api).addRoutes(to: &registry)
    }

    /// An import's reply: `run` (given the progress callback and the cancellation test) in a
    /// task, its progress, summary or fault as NDJSON lines; the client going away cancels it.
    static func streamed(
        _ api: APIContext,
        run: @escaping @Sendable (
            _ progress: @escaping @Sendable (ImportProgress) -> Void, _ isCancelled: @escaping @Sendable () -> Bool
        ) async throws -> ImportSummary
    ) -> Response {
        let (events, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let cancellation = Cancellation()
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        api.metrics.importsRunning.increment()
                        defer { api.metrics.importsRunning.decrement() }
                        do {
                            let summary = try await run({ continuation.yield(.progress($0)) }, { cancellation.isCancelled })
                            api.metrics.recordImported(files: summary.files, instances: summary.instances)
                            continuation.yield(.summary(summary))
                        } catch {
                            continuation.yield(.failure("\(error)"))
                        }
                        continuation.finish()
                    }
                    do {
                        for await event in events {
                            try await writer.write(ByteBuffer(bytes: Self.line(event)))
                        }
                    } catch {
                        cancellation.cancel()
                        throw error
                    }
                    try await group.waitForAll()
                }
                try await writer.finish(nil)
            })
    }

    /// The media list upload: `sha256<TAB>file_name` per line, read into a map (file name →
    /// SHA-256); a fault names its line.
    static func mediaList(_ media: MediaStore, sha256: String) async throws -> [String: String] {
        guard MediaStore.isSHA256(sha256), media.contains(sha256) else {
            throw StoreError.invalidField(FieldError(path: "media_sha256", message: "the server holds no upload with this SHA-256"))
        }
        let path = media.path(for: sha256)
        return try await NIOThreadPool.singleton.runIfActive {
            guard let data = FileManager.default.contents(atPath: path) else { throw MediaError.unreadable(path: path) }
            var map: [String: String] = [:]
            var number = 0
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                number += 1
                if line.isEmpty { continue }
                guard let tab = line.firstIndex(of: UInt8(ascii: "\t")),
                    let sha = String(bytes: line[line.startIndex..<tab], encoding: .utf8), MediaStore.isSHA256(sha),
                    let name = String(bytes: line[(tab + 1)...], encoding: .utf8), !name.isEmpty
                else {
                    throw StoreError.invalidField(
                        FieldError(path: "media_sha256", message: "line \(number): expected 'sha256<TAB>file_name'"))
                }
                map[name] = sha
            }
            return map
        }
    }

    static func line(_ event: Event) -> [UInt8] {
        var out = JSONOutput()
        switch event {
        case .progress(let progress):
            out.object([
                "progress": .object([
                    "bytes_read": .number(Double(progress.bytesRead)), "total_bytes": .number(Double(progress.totalBytes)),
                    "files": .number(Double(progress.files)), "instances": .number(Double(progress.instances)),
                    "elapsed": .number(progress.elapsed), "finishing": .bool(progress.finishing),
                    "line": .string(progress.line),
                ])
            ])
        case .summary(let summary):
            out.object([
                "summary": .object([
                    "dataset_id": .number(Double(summary.datasetID)), "files": .number(Double(summary.files)),
                    "instances": .number(Double(summary.instances)), "labels": .number(Double(summary.labels)),
                    "media": .number(Double(summary.media)), "seconds": .number(summary.seconds),
                ])
            ])
        case .failure(let message):
            out.object(["error": .object(["code": .string("import_failed"), "message": .string(message)])])
        }
        out.raw(UInt8(ascii: "\n"))
        return out.bytes
    }
}
