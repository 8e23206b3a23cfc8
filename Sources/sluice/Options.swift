import ArgumentParser
import Foundation
import SluiceModel
import SluiceStore

/// `--host` and `--api-key`, for commands that talk to a server.
struct ServerOptions: ParsableArguments {
    @Option(help: "Server URL (default: $SLUICE_HOST, else http://127.0.0.1:8085).")
    var host: String?

    @Option(help: "API key (default: $SLUICE_API_KEY).")
    var apiKey: String?
}

/// `--data`, for commands that open the embedded store directly.
struct StoreOptions: ParsableArguments {
    @Option(help: "Directory of the embedded store (SQLite file and media), used with no server running.")
    var data: String?

    /// The embedded store in `--data`; nil without it (the command goes through a server).
    func open(memoryMapped: Bool = true) throws -> SQLiteStore? {
        try data.map { try SQLiteStore(directory: URL(fileURLWithPath: absolutePath($0)), memoryMapped: memoryMapped) }
    }

    /// The embedded store in `--data`, which this command needs: `missing` says so without it.
    func require(_ missing: String) throws -> SQLiteStore {
        guard let store = try open() else { throw ValidationError(missing) }
        return store
    }
}

extension SQLiteStore {
    /// Dataset `name` of `project`, or `StoreError.datasetNotFound`.
    func dataset(project: String, named name: String) async throws -> SluiceModel.Dataset {
        guard let dataset = try await dataset(projectID: project, name: name) else {
            throw StoreError.datasetNotFound("\(project)/\(name)")
        }
        return dataset
    }
}

/// A progress line on stderr, rewritten in place on a terminal.
struct ProgressLine: Sendable {
    let isTerminal = isatty(STDERR_FILENO) != 0

    func update(_ text: String) {
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)".utf8))
        } else {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func finish(_ text: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n").utf8))
    }
}

/// Writes a line to stderr.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Expands `~` and makes a path absolute.
func absolutePath(_ path: String) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    if expanded.hasPrefix("/") { return expanded }
    return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded)
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
