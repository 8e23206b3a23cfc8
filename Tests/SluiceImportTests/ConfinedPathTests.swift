import Foundation
import SluiceImport
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

/// Paths in import files stay inside the directory they are relative to.
@Suite struct ConfinedPathTests {
    @Test(arguments: [
        ("../secret.jpg", "climbs out"), ("a/../../secret.jpg", "climbs out"), ("/etc/passwd", "absolute"),
        ("", "empty"), ("a\0b", "NUL"),
    ])
    func refusesPathsThatLeave(relative: String, reason: String) throws {
        #expect {
            try ConfinedPath.resolve(relative, in: "/tmp", field: "images[4].file_name")
        } throws: { error in
            guard case ImportError.unsafePath(let path, let file, let why) = error else { return false }
            return path == "images[4].file_name" && file == relative && why.contains(reason)
        }
    }

    @Test func refusesASymbolicLinkThatLeadsOut() async throws {
        try await withTemporaryDirectory { directory in
            let inside = directory.appendingPathComponent("images")
            try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
            let outside = directory.appendingPathComponent("secret.jpg")
            try Data("secret".utf8).write(to: outside)
            try FileManager.default.createSymbolicLink(
                atPath: inside.appendingPathComponent("link.jpg").path, withDestinationPath: outside.path)
            try Data("ok".utf8).write(to: inside.appendingPathComponent("fine.jpg"))
            #expect(throws: ImportError.self) {
                try ConfinedPath.resolve("link.jpg", in: inside.path, field: "images[0].file_name")
            }
            let fine = try ConfinedPath.resolve("fine.jpg", in: inside.path, field: "images[0].file_name")
            #expect(fine.hasSuffix("/images/fine.jpg"))
            #expect(try ConfinedPath.resolve("sub/missing.jpg", in: inside.path, field: "f").hasSuffix("sub/missing.jpg"))
        }
    }

    @Test func linksInsideAreFollowedAndTheDirectoryIsResolvedAgainWhenReplaced() async throws {
        try await withTemporaryDirectory { directory in
            let fm = FileManager.default
            let real = directory.resolvingSymlinksInPath().path
            let inside = directory.appendingPathComponent("images"), other = directory.appendingPathComponent("other")
            for folder in [inside.appendingPathComponent("sub"), other] { try fm.createDirectory(at: folder, withIntermediateDirectories: true) }
            try Data("a".utf8).write(to: inside.appendingPathComponent("sub/a.jpg"))
            try Data("b".utf8).write(to: other.appendingPathComponent("a.jpg"))
            try Data("c".utf8).write(to: inside.appendingPathComponent(#"back\slash.jpg"#))
            // A link that stays inside resolves to its target; one to a sibling folder is refused.
            try fm.createSymbolicLink(atPath: inside.appendingPathComponent("alias").path, withDestinationPath: "sub")
            try fm.createSymbolicLink(atPath: inside.appendingPathComponent("away").path, withDestinationPath: other.path)
            #expect(try ConfinedPath.resolve("alias/a.jpg", in: inside.path, field: "f") == "\(real)/images/sub/a.jpg")
            #expect(try ConfinedPath.resolve("./sub//a.jpg", in: inside.path, field: "f") == "\(real)/images/sub/a.jpg")
            #expect(throws: ImportError.self) { try ConfinedPath.resolve("away/a.jpg", in: inside.path, field: "f") }
            // A backslash is part of a name on Linux, not a separator.
            #expect(try ConfinedPath.resolve(#"back\slash.jpg"#, in: inside.path, field: "f") == #"\#(real)/images/back\slash.jpg"#)
            // The directory becomes a link to another: paths resolve in the new one, not the one resolved before.
            try fm.moveItem(at: inside, to: directory.appendingPathComponent("images-before"))
            try fm.createSymbolicLink(atPath: inside.path, withDestinationPath: other.path)
            #expect(try ConfinedPath.resolve("a.jpg", in: inside.path, field: "f") == "\(real)/other/a.jpg")
        }
    }

    @Test func anImportNamingAPathOutsideIsRefusedWhole() async throws {
        let set = Fixtures.cocoSets[0]
        try await withTemporaryStore { store, directory in
            var document = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: set.annotationsPath))) as! [String: Any]
            var images = document["images"] as! [[String: Any]]
            images[2]["file_name"] = "../" + (images[2]["file_name"] as! String)
            document["images"] = images
            let path = directory.appendingPathComponent("escaping.json")
            try JSONSerialization.data(withJSONObject: document).write(to: path)
            _ = try await store.ensureProject(Project(id: "p", name: "p"))
            await #expect {
                _ = try await COCOImporter(imagesDirectory: set.imagesPath)
                    .importFile(at: path.path, into: store, projectID: "p", datasetName: "D")
            } throws: { error in
                guard case ImportError.unsafePath(let field, _, _) = error else { return false }
                return field == "images[2].file_name"
            }
            #expect(try await store.dataset(projectID: "p", name: "D") == nil, "nothing of the import is kept")
        }
    }
}
