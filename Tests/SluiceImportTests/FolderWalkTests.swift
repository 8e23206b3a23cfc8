import Foundation
import Testing

@testable import SluiceImport

/// `FolderWalk`: regular files, sorted, hidden entries left out, links listed only when asked
/// and never entered, depth limited.
@Suite struct FolderWalkTests {
    @Test func regularFilesAreListedSortedWithoutHiddenEntriesOrLinks() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-walk-\(UUID().uuidString)").path
        let outside = root + "-outside"
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: outside)
        }
        let fm = FileManager.default
        for folder in ["\(root)/b/c", "\(root)/.hidden", "\(root)/a", outside] {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        for file in ["z.JPG", "a/y.png", "b/c/x.jpg", "b/w.txt", ".hidden/v.jpg", "._u.jpg", "b/c/.t.jpg"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(root)/\(file)"))
        }
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(outside)/secret.jpg"))
        try fm.createSymbolicLink(atPath: "\(root)/link.jpg", withDestinationPath: "\(root)/z.JPG")
        try fm.createSymbolicLink(atPath: "\(root)/out", withDestinationPath: outside)

        #expect(FolderWalk.files(in: root) == ["a/y.png", "b/c/x.jpg", "b/w.txt", "z.JPG"])
        #expect(FolderWalk.files(in: root) { FolderWalk.pathExtension($0).lowercased() == "jpg" } == ["b/c/x.jpg", "z.JPG"])
        #expect(FolderWalk.files(in: root, maxDepth: 0) == ["z.JPG"])
        #expect(FolderWalk.files(in: root, maxDepth: 0, includingLinks: true) == ["link.jpg", "out", "z.JPG"])
        #expect(
            FolderWalk.files(in: root, includingLinks: true) == ["a/y.png", "b/c/x.jpg", "b/w.txt", "link.jpg", "out", "z.JPG"],
            "a link to a folder is listed as a name, never entered")
        #expect(FolderWalk.files(in: root, maxDepth: 1) == ["a/y.png", "b/w.txt", "z.JPG"])
        #expect(FolderWalk.folders(in: root) == ["a", "b"])
        #expect(FolderWalk.files(in: root + "/missing").isEmpty)
    }

    @Test func extensionsAndStemsAreTheLastDotsOfTheName() {
        #expect(FolderWalk.pathExtension("a.b.JPG") == "JPG" && FolderWalk.stem("a.b.JPG") == "a.b")
        #expect(FolderWalk.pathExtension("noext") == "" && FolderWalk.stem("noext") == "noext")
        #expect(FolderWalk.pathExtension(".profile") == "" && FolderWalk.stem(".profile") == ".profile")
        #expect(FolderWalk.pathExtension("trailing.") == "" && FolderWalk.stem("trailing.") == "trailing")
    }
}
