import HTTPTypes
import Hummingbird
import NIOCore
import SluiceImport
import SluiceModel
import SluiceStore

/// `/datasets/{id}/export`: the dataset (or a slice of it) as one COCO or sluice-json
/// document, streamed as a chunked response while the store is read a page at a time.
struct ExportRoutes {
    let api: APIContext

    func addRoutes(to registry: inout RouteRegistry) {
        let api = self.api
        registry.get("/datasets/{id}/export") { request, context in
            let dataset = try await DatasetRoutes.dataset(api.store, context)
            let formatText = request.formQuery.get("format") ?? ExportFormat.sluiceJSON.rawValue
            guard let format = ExportFormat(rawValue: formatText) else {
                throw APIError.badParameter("format", "expected coco or sluice-json, got '\(formatText)'")
            }
            let version = try await VersionRoutes.requested(api.store, dataset, request)
            var positions: [Int]?
            if let query = request.formQuery.get("query"), !query.isEmpty {
                positions = try await SliceRoutes.resolve(api, dataset: dataset, query: query, at: version).positions
            }
            let exporter = DatasetExporter(
                source: ExportSource(store: api.store, dataset: dataset, positions: positions, version: version),
                format: format)
            let headers: HTTPFields = [
                .contentType: format.contentType,
                .contentDisposition: "attachment; filename=\"\(Self.fileName(dataset, format))\"",
                .sluiceCount: String(exporter.source.count),
                .sluiceVersion: String(exporter.source.versionNumber),
            ]
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    _ = try await exporter.write { bytes in
                        try await writer.write(ByteBuffer(bytes: bytes))
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// `project-dataset.coco.json`, with characters unsafe in a header or a path replaced.
    static func fileName(_ dataset: Dataset, _ format: ExportFormat) -> String {
        let safe = "\(dataset.projectID)-\(dataset.name)".map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return String(safe) + (format == .coco ? ".coco.json" : ".sluice.json")
    }
}
