import Foundation
import Sluice

/// A folder import sent through a server (`sluice import voc|yolo|labelme|cvat|doccano --host`):
/// the folder's files uploaded content-addressed (only what the server lacks travels), then a
/// listing of `sha256<TAB>relative/path` lines, then the import asked for by the listing's hash.
/// `--images` and `--video` travel inside the tree under `@images/` and `@video/`.
struct FolderUpload {
    struct Entry: Sendable {
        var relative: String
        var absolute: String
    }

    var entries: [Entry] = []
    /// What the server imports, relative to the tree: nil for its root.
    var path: String?
    var images: String?
    var video: String?

    static let videoExtensions: Set<String> = ["mp4", "m4v", "mov", "webm", "mkv", "avi"]

    /// What an import of `path` reads: the folder; or, for a file, the file and (CVAT) what the
    /// importer looks for beside it: images/ and the video.
    init(format: Project.FolderFormat, path: String, images: String?, video: String?) throws {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory) else { throw SluiceError.invalidArgument("\(path) does not exist") }
        if isDirectory.boolValue {
            try add(folder: path, as: "")
        } else {
            let name = (path as NSString).lastPathComponent
            let beside = (path as NSString).deletingLastPathComponent
            entries.append(Entry(relative: name, absolute: path))
            self.path = name
            if format == .cvat {
                try add(folder: (beside as NSString).appendingPathComponent("images"), as: "images/", ifPresent: true)
                for other in try files.contentsOfDirectory(atPath: beside).sorted()
                where Self.videoExtensions.contains((other as NSString).pathExtension.lowercased()) {
                    entries.append(Entry(relative: other, absolute: (beside as NSString).appendingPathComponent(other)))
                }
            }
        }
        if let images {
            try add(folder: images, as: "@images/")
            self.images = "@images"
        }
        if let video {
            let name = "@video/" + (video as NSString).lastPathComponent
            entries.append(Entry(relative: name, absolute: video))
            self.video = name
        }
    }

    /// Every regular file under `folder` (hidden ones left out), named `prefix` + its path in it.
    private mutating func add(folder: String, as prefix: String, ifPresent: Bool = false) throws {
        let root = URL(fileURLWithPath: folder, isDirectory: true).standardizedFileURL
        guard let walk = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else {
            if ifPresent { return }
            throw SluiceError.invalidArgument("cannot read the folder \(folder)")
        }
        var found: [Entry] = []
        for case let url as URL in walk {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            found.append(Entry(relative: prefix + relative, absolute: url.path))
        }
        entries += found.sorted { $0.relative < $1.relative }
    }

    /// Uploads the files (four at a time) and the listing; returns the listing's SHA-256.
    func upload(to project: Project, line: ProgressLine) async throws -> String {
        if let odd = entries.first(where: { $0.relative.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }) }) {
            throw SluiceError.invalidArgument("\(odd.absolute): a name with a tab or a line break cannot be sent")
        }
        let started = ContinuousClock.now
        var lines: [String] = []
        lines.reserveCapacity(entries.count)
        var done = 0
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var next = 0
            var hashes = [String?](repeating: nil, count: entries.count)
            func start() {
                guard next < entries.count else { return }
                let index = next, entry = entries[index]
                next += 1
                group.addTask { (index, try await project.uploadMedia(fileAt: entry.absolute).sha256) }
            }
            for _ in 0..<4 { start() }
            while let (index, sha) = try await group.next() {
                hashes[index] = sha
                done += 1
                line.update("uploading files · " + ImportCOCOCommand.rate(done: done, of: entries.count, since: started))
                start()
            }
            for (entry, sha) in zip(entries, hashes) {
                guard let sha else { continue }
                lines.append("\(sha)\t\(entry.relative)")
            }
        }
        let listing = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-tree-\(UUID().uuidString).tsv")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: listing)
        defer { try? FileManager.default.removeItem(at: listing) }
        return try await project.uploadMedia(fileAt: listing.path).sha256
    }
}
