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

/// `--data`, or `--postgres` with `--media`: for commands that open a store directly.
struct StoreOptions: ParsableArguments {
    @Option(help: "Directory of the embedded store (SQLite file and media), used with no server running.")
    var data: String?

    @Option(help: "PostgreSQL URL of a scale-out store (postgres://user:password@host:5432/database), instead of --data.")
    var postgres: String?

    @Option(help: "The media directory every server of the --postgres store shares.")
    var media: String?

    func validate() throws {
        if data != nil, postgres != nil { throw ValidationError("give --data or --postgres, not both") }
        if media != nil, postgres == nil { throw ValidationError("--media goes with --postgres (the embedded store keeps media in --data)") }
    }

    /// Whether the command opens a store itself (else it goes through a server).
    var isGiven: Bool { data != nil || postgres != nil }

    /// The store in `--data` or `--postgres`; nil without either (the command goes through a
    /// server). `memoryMapped` applies to the embedded store (see `SQLiteStore.init`). A command
    /// that reads or writes no media bytes (keys, tags, snapshots) opens a PostgreSQL store
    /// without `--media`, as DESIGN.md's command line has it.
    func open(memoryMapped: Bool = true, needsMedia: Bool = true) async throws -> (any Store)? {
        if let postgres {
            let root: URL
            if let media {
                root = URL(fileURLWithPath: absolutePath(media))
            } else if !needsMedia {
                root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-unused-media")
            } else {
                throw ValidationError("--postgres needs --media DIR here: the media directory its servers share")
            }
            return try await PostgresStore.open(url: postgres, media: try MediaStore(root: root))
        }
        return try data.map { try SQLiteStore(directory: URL(fileURLWithPath: absolutePath($0)), memoryMapped: memoryMapped) }
    }

    /// The store this command needs: `missing` says so without one.
    func require(_ missing: String) async throws -> any Store {
        guard let store = try await open() else { throw ValidationError(missing) }
        return store
    }

    /// Where the store is, for messages: the directory, or the URL without its password.
    var location: String {
        if let postgres {
            guard var url = URLComponents(string: postgres) else { return "PostgreSQL" }
            if url.password != nil { url.password = "***" }
            return url.string ?? "PostgreSQL"
        }
        return data.map(absolutePath) ?? "a server"
    }
}

extension Store {
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
