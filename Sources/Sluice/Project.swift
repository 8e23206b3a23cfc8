/// A handle on a project of a Sluice server: the entry point of the SDK.
///
/// ```swift
/// let project = try await Project(id: "coco-dataset", host: "http://127.0.0.1:8085")
/// let dataset = try await project.datasets.get(name: "Default")
/// ```
public struct Project: Sendable {
    /// The project's record as the server holds it.
    public let info: SluiceModel.Project
    let connection: Connection

    /// The project's string id.
    public var id: String { info.id }

    /// Connects to the project `id`; throws `SluiceError.notFound` when the server has none.
    /// - Parameters:
    ///   - id: The project's string id, as `sluice import` named it.
    ///   - host: Base URL; default `$SLUICE_HOST`, else `http://127.0.0.1:8085`.
    ///   - apiKey: Default `$SLUICE_API_KEY`.
    public init(id: String, host: String? = nil, apiKey: String? = nil) async throws {
        try await self.init(id: id, configuration: ClientConfiguration(host: host, apiKey: apiKey))
    }

    /// Connects with a full configuration (timeouts, retries).
    public init(id: String, configuration: ClientConfiguration) async throws {
        let connection = Connection(configuration: configuration)
        self.connection = connection
        self.info = try await connection.get("/api/v1/projects/\(id.pathEscaped)")
    }

    /// The project's datasets.
    public var datasets: DatasetDirectory { DatasetDirectory(project: self) }

    /// The same as `datasets`, spelt as Diffgram's SDK does.
    public var directory: DatasetDirectory { datasets }

    /// The project's labels in id order; `Label.index` is each one's value in tensor `labels`
    /// (the same as its place in this list until a label is deleted).
    public func labels() async throws -> [Label] {
        try await connection.get("/api/v1/projects/\(id.pathEscaped)/labels")
    }

    /// The project's attribute groups.
    public func attributeGroups() async throws -> [AttributeGroup] {
        try await connection.get("/api/v1/projects/\(id.pathEscaped)/attribute-groups")
    }
}

/// The datasets of a project, looked up by name.
public struct DatasetDirectory: Sendable {
    let project: Project

    /// The dataset called `name`; throws `SluiceError.notFound` when there is none.
    public func get(name: String) async throws -> Dataset {
        let matches: [SluiceModel.Dataset] = try await project.connection.get(
            "/api/v1/projects/\(project.id.pathEscaped)/datasets?name=\(name.queryEscaped)")
        guard let info = matches.first else {
            throw SluiceError.notFound("project '\(project.id)' has no dataset named '\(name)'")
        }
        return Dataset(info: info, connection: project.connection)
    }

    /// Every dataset of the project.
    public func list() async throws -> [Dataset] {
        let all: [SluiceModel.Dataset] = try await project.connection.get(
            "/api/v1/projects/\(project.id.pathEscaped)/datasets")
        return all.map { Dataset(info: $0, connection: project.connection) }
    }
}

extension String {
    /// Percent-escaped for one path segment.
    var pathEscaped: String {
        addingPercentEncoding(withAllowedCharacters: .urlPathSegmentAllowed) ?? self
    }

    /// Percent-escaped for a query value.
    var queryEscaped: String {
        addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? self
    }
}

import Foundation

extension CharacterSet {
    fileprivate static let urlPathSegmentAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
    fileprivate static let urlQueryValueAllowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+?#"))
}
