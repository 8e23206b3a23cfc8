/// The file formats a dataset exports to.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// COCO's object: `categories`, `images`, `annotations`, with the source ids that the COCO
    /// importer kept, so an imported COCO file comes back equal.
    case coco
    /// One JSON document: the project's labels, then every item in the server's wire JSON.
    case sluiceJSON = "sluice-json"

    /// The MIME type of the exported document.
    public var contentType: String { "application/json" }
}

/// What an export wrote.
public struct ExportSummary: Sendable, Equatable {
    public var files: Int
    public var instances: Int
    public var bytes: Int
    public var seconds: Double
}
