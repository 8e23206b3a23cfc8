import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceModel
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// Writes through the API (docs/writes.md): media uploads, appended files, instance edits
/// with the revision check, labels and keys, over a real SQLite store.
@Suite struct WriteRoutesTests {
    struct Setup: Sendable {
        var store: SQLiteStore
        var dataset: Dataset
        var editor: HTTPFields
        var viewer: HTTPFields
        var admin: HTTPFields
        var media: URL
    }

    func withServer(
        configuration: ServerConfiguration = ServerConfiguration(),
        _ body: @escaping @Sendable (any TestClientProtocol, Setup) async throws -> Void
    ) async throws {
        try await withTemporaryStore { store, directory in
            let dataset = try await store.importSample()
            var headers: [HTTPFields] = []
            for role in [APIKeyRole.editor, .viewer, .admin] {
                let key = NewAPIKey.generate(projectID: "coco-dataset", role: role)
                try await store.insertAPIKey(key.stored)
                headers.append([.authorization: "Bearer \(key.token)"])
            }
            let (router, _) = SluiceAPI.buildRouter(store: store, configuration: configuration)
            let setup = Setup(
                store: store, dataset: dataset, editor: headers[0], viewer: headers[1], admin: headers[2],
                media: directory.appendingPathComponent("media"))
            try await Application(router: router).test(.router) { client in try await body(client, setup) }
        }
    }

    static let photo = Fixtures.path("coco/crowdpose/106848.jpg")

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func json(_ response: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
    }

    static func error(_ response: TestResponse) throws -> (code: String, field: String?) {
        guard case .object(let root) = try json(response), case .object(let error)? = root["error"] else {
            throw APIError(.internalServerError, code: "test", message: "no error body")
        }
        var field: String?
        if case .object(let detail)? = error["detail"] { field = detail["field"]?.stringValue }
        return (error["code"]?.stringValue ?? "", field)
    }

    /// Staging files and blobs below the media directory.
    static func mediaFiles(_ root: URL) -> [String] {
        (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? [])
            .filter { !$0.isEmpty && !FileManager.default.isDirectory(atPath: root.appendingPathComponent($0).path) }
    }

    @Test func rawUploadIsCheckedAgainstItsHashAndStoredOnce() async throws {
        try await withServer { client, setup in
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.photo)))
            // A photo the sample does not hold: flip a byte inside the JPEG's entropy-coded data.
            var fresh = bytes
            fresh[fresh.count - 100] ^= 0x55
            let sha = Self.sha256(fresh)
            let uri = "/api/v1/projects/coco-dataset/media/\(sha)"
            try await client.execute(uri: uri, method: .head, headers: setup.editor) { #expect($0.status == .notFound) }
            let before = Self.mediaFiles(setup.media)
            try await client.execute(uri: uri, method: .put, headers: setup.viewer, body: ByteBuffer(bytes: fresh)) {
                #expect($0.status == .forbidden, "a viewer does not upload")
            }
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media/\(String(repeating: "a", count: 64))", method: .put,
                headers: setup.editor, body: ByteBuffer(bytes: fresh)
            ) { response in
                #expect(response.status == .unprocessableContent)
                let checked = try Self.error(response)
                #expect(checked.code == "sha256_mismatch")
            }
            #expect(Self.mediaFiles(setup.media) == before, "a refused upload leaves nothing, not even a staging file")
            try await client.execute(uri: uri, method: .put, headers: setup.editor, body: ByteBuffer(bytes: fresh)) { response in
                #expect(response.status == .created)
                guard case .object(let media) = try Self.json(response) else { throw APIError.notFound("no body") }
                #expect(media["mime_type"]?.stringValue == "image/jpeg")
                #expect(media["type"]?.stringValue == "image")
                #expect(media["width"] == .number(Double(ImageHeader(bytes: bytes)!.width)))
                #expect(media["byte_size"] == .number(Double(fresh.count)))
            }
            try await client.execute(uri: uri, method: .head, headers: setup.editor) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == String(fresh.count))
            }
            try await client.execute(uri: uri, method: .put, headers: setup.editor, body: ByteBuffer(bytes: fresh)) {
                #expect($0.status == .ok, "bytes already held are not stored again")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: setup.store.media.path(for: sha))) == Data(fresh))
            #expect(Self.mediaFiles(setup.media).count == before.count + 1)
        }
    }

    @Test func uploadTypeComesFromTheBytesAndTheSizeIsLimited() async throws {
        try await withServer(configuration: ServerConfiguration(maxMediaBytes: 1000)) { client, setup in
            let before = Self.mediaFiles(setup.media)
            let binary: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0xFF, 0xFE] + Array(repeating: 0, count: 64)
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media/\(Self.sha256(binary))", method: .put,
                headers: setup.editor.merging([.contentType: "image/png"]), body: ByteBuffer(bytes: binary)
            ) { response in
                #expect(response.status == .unsupportedMediaType, "a PNG content type does not make bytes a PNG")
            }
            let big = Array("hello ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 2000)
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media/\(Self.sha256(big))", method: .put, headers: setup.editor,
                body: ByteBuffer(bytes: big)
            ) { response in
                #expect(response.status == .contentTooLarge)
                let checked = try Self.error(response)
                #expect(checked.code == "payload_too_large")
            }
            #expect(Self.mediaFiles(setup.media) == before)
            let text = Array("a short caption\n".utf8)
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media/\(Self.sha256(text))", method: .put, headers: setup.editor,
                body: ByteBuffer(bytes: text)
            ) { response in
                #expect(response.status == .created)
                guard case .object(let media) = try Self.json(response) else { throw APIError.notFound("no body") }
                #expect(media["type"]?.stringValue == "text")
            }
        }
    }

    @Test func multipartUploadTakesTheFilePart() async throws {
        try await withServer { client, setup in
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.photo)))
            bytes[bytes.count - 200] ^= 0x11
            let boundary = "----sluice-test-boundary"
            var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"directory_id\"\r\n\r\n7\r\n".utf8)
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\nContent-Type: image/png\r\n\r\n"
                    .utf8)
            body += bytes
            body += Array("\r\n--\(boundary)--\r\n".utf8)
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media", method: .post,
                headers: setup.editor.merging([.contentType: "multipart/form-data; boundary=\(boundary)"]),
                body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .created)
                guard case .object(let media) = try Self.json(response) else { throw APIError.notFound("no body") }
                #expect(media["sha256"]?.stringValue == Self.sha256(bytes))
                #expect(media["mime_type"]?.stringValue == "image/jpeg", "the bytes say JPEG whatever the part says")
            }
            #expect(setup.store.media.contains(Self.sha256(bytes)))
            // An empty file part is still the file part: no media (415), not "no file part" (400).
            let empty = Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e\"\r\n\r\n\r\n--\(boundary)--\r\n".utf8)
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media", method: .post,
                headers: setup.editor.merging([.contentType: "multipart/form-data; boundary=\(boundary)"]),
                body: ByteBuffer(bytes: empty)
            ) { #expect($0.status == .unsupportedMediaType) }
            // A non-ASCII header name once trapped MultipartKit's parser, stopping the server.
            let hostile = Array("--\(boundary)\r\n\u{F5}[`\u{DF}12--\(boundary)--\r\n".utf8)
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/media", method: .post,
                headers: setup.editor.merging([.contentType: "multipart/form-data; boundary=\(boundary)"]),
                body: ByteBuffer(bytes: hostile)
            ) { #expect($0.status == .badRequest) }
        }
    }

    /// Uploads a variant of the photo and returns its SHA-256.
    static func upload(_ client: any TestClientProtocol, _ setup: Setup, flipping offset: Int) async throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: photo)))
        bytes[bytes.count - offset] ^= 0x22
        let sha = sha256(bytes)
        try await client.execute(
            uri: "/api/v1/projects/coco-dataset/media/\(sha)", method: .put, headers: setup.editor,
            body: ByteBuffer(bytes: bytes)
        ) { #expect($0.status == .created) }
        return sha
    }

    @Test func appendedFilesAreAllOrNothingAndNameTheFieldAtFault() async throws {
        try await withServer { client, setup in
            let sha = try await Self.upload(client, setup, flipping: 300)
            let uri = "/api/v1/datasets/\(setup.dataset.id)/files"
            let bad = """
                {"files": [
                  {"name": "ok.jpg", "sha256": "\(sha)", "instances": [{"label": "person", "kind": "box", "bbox": [1, 2, 30, 40]}]},
                  {"name": "bad.jpg", "sha256": "\(sha)", "instances": [
                    {"label": "person", "kind": "box", "bbox": [1, 2, 30, 40]},
                    {"label": "person", "kind": "polygon", "geometry": {"polygon": [[1, 2, 3, 4]]}}]}
                ]}
                """
            try await client.execute(uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: bad)) { response in
                #expect(response.status == .unprocessableContent)
                let error = try Self.error(response)
                #expect(error.field == "files[1].instances[1].geometry.polygon[0]")
            }
            let unknownLabel = """
                {"files": [{"name": "a.jpg", "sha256": "\(sha)", "instances": [{"label": "zebra", "kind": "box", "bbox": [0, 0, 1, 1]}]}]}
                """
            try await client.execute(uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: unknownLabel)) {
                let checked = try Self.error($0)
                #expect(checked.field == "files[0].instances[0].label")
            }
            let missingMedia = #"{"files": [{"name": "a.jpg", "sha256": "\#(String(repeating: "0", count: 64))"}]}"#
            try await client.execute(uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: missingMedia)) {
                let checked = try Self.error($0)
                #expect(checked.field == "files[0].sha256")
            }
            let unchanged = try await setup.store.dataset(id: setup.dataset.id)!
            #expect(unchanged.count == setup.dataset.count && unchanged.version == setup.dataset.version)
            let cursor = try await setup.store.changeCursor(datasetID: setup.dataset.id)

            let good = """
                {"create_labels": true, "files": [
                  {"name": "new-1.jpg", "sha256": "\(sha)", "metadata": {"source": "vendor"},
                   "instances": [{"label": "zebra", "kind": "box", "bbox": [1, 2, 30, 40], "score": 0.5}]},
                  {"name": "new-2.jpg", "sha256": "\(sha)"}
                ]}
                """
            try await client.execute(uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: good)) { response in
                #expect(response.status == .created)
            }
            let after = try await setup.store.dataset(id: setup.dataset.id)!
            #expect(after.count == setup.dataset.count + 2)
            #expect(after.version == setup.dataset.version + 1, "one write, one version")
            let items = try await setup.store.items(datasetID: after.id, range: setup.dataset.count..<after.count)
            #expect(items.map(\.file.name) == ["new-1.jpg", "new-2.jpg"])
            #expect(items[0].instances.map(\.label) == ["zebra"])
            #expect(items[0].file.media.sha256 == sha && items[0].file.media.width != nil)
            let labels = try await setup.store.labels(projectID: "coco-dataset")
            #expect(labels.contains { $0.name == "zebra" })
            let page = try await setup.store.changes(datasetID: after.id, after: cursor, limit: 10)
            #expect(page.changes.map(\.kind) == [.added])
            #expect(page.changes.first.map { $0.start..<$0.end } == setup.dataset.count..<after.count)
        }
    }

    @Test func staleRevisionsAreRefusedAndSnapshotsKeepTheirBytes() async throws {
        try await withServer { client, setup in
            let snapshot = try await setup.store.createSnapshot(datasetID: setup.dataset.id, name: "before")
            let pinned = try await setup.store.versionPoint(datasetID: setup.dataset.id, version: snapshot.version)!
            let before = try await setup.store.storedItems(datasetID: setup.dataset.id, range: 0..<1, at: pinned)
            let file = try await setup.store.items(datasetID: setup.dataset.id, range: 0..<1)[0].file
            let uri = "/api/v1/files/\(file.id)/instances"
            let etag = try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == .ok)
                return response.headers[.eTag]
            }
            #expect(etag == "\"\(file.revision)\"")
            let save = ByteBuffer(string: #"{"instances": [{"label": "person", "kind": "box", "bbox": [5, 5, 50, 60]}]}"#)
            let saved = try await client.execute(
                uri: uri, method: .put, headers: setup.editor.merging([.ifMatch: etag!]), body: save
            ) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(AnnotatedFile.self, from: Data(buffer: response.body))
            }
            #expect(saved.instances.count == 1 && saved.instances[0].bbox == BoundingBox(xMin: 5, yMin: 5, xMax: 50, yMax: 60))
            #expect(saved.file.revision != file.revision)
            // A second annotator still holding the first revision is refused, and told the current one.
            try await client.execute(uri: uri, method: .put, headers: setup.editor.merging([.ifMatch: etag!]), body: save) {
                response in
                #expect(response.status == .preconditionFailed)
                #expect(response.headers[.eTag] == "\"\(saved.file.revision)\"")
                let checked = try Self.error(response)
                #expect(checked.code == "revision_mismatch")
            }
            let instance = saved.instances[0].id
            try await client.execute(
                uri: "\(uri)/\(instance)?create_labels=yes", method: .patch, headers: setup.editor,
                body: ByteBuffer(string: #"{"label": "person", "kind": "box", "bbox": [6, 6, 60, 70]}"#)
            ) { response in
                #expect(response.status == .badRequest, "create_labels is true or false")
                let checked = try Self.error(response)
                #expect(checked.code == "bad_parameter")
                #expect(String(buffer: response.body).contains(#""parameter":"create_labels""#))
            }
            let moved = try await client.execute(
                uri: "\(uri)/\(instance)", method: .patch,
                headers: setup.editor.merging([.ifMatch: "\"\(saved.file.revision)\""]),
                body: ByteBuffer(string: #"{"label": "person", "kind": "box", "bbox": [6, 6, 60, 70]}"#)
            ) { try JSONDecoder().decode(AnnotatedFile.self, from: Data(buffer: $0.body)) }
            #expect(moved.instances.map(\.bbox) == [BoundingBox(xMin: 6, yMin: 6, xMax: 60, yMax: 70)])
            #expect(moved.instances[0].id != instance, "an edit is a new row; the old one stays for older versions")
            try await client.execute(
                uri: "\(uri)/\(moved.instances[0].id)", method: .delete, headers: setup.editor
            ) { response in
                let left = try JSONDecoder().decode(AnnotatedFile.self, from: Data(buffer: response.body))
                #expect(left.instances.isEmpty)
            }
            let after = try await setup.store.storedItems(datasetID: setup.dataset.id, range: 0..<1, at: pinned)
            var beforeJSON = JSONOutput(), afterJSON = JSONOutput()
            beforeJSON.item(before[0])
            afterJSON.item(after[0])
            #expect(beforeJSON.bytes == afterJSON.bytes, "the snapshot reads byte-identical after three writes")
            let counts = try await setup.store.labelCounts(fileID: file.id)
            #expect(counts.isEmpty, "label counts follow every write")
        }
    }

    @Test func invalidInstancesAreRefusedWholeNamingTheField() async throws {
        try await withServer { client, setup in
            let file = try await setup.store.items(datasetID: setup.dataset.id, range: 0..<1)[0]
            let uri = "/api/v1/files/\(file.file.id)/instances"
            let cases: [(String, String)] = [
                (#"{"label": "person", "kind": "box", "bbox": [10, 0, 5, 5]}"#, "instances[1].bbox"),
                (#"{"label": "person", "kind": "box"}"#, "instances[1].bbox"),
                (#"{"label": "person", "kind": "keypoints", "geometry": {"keypoints": [[1, 2, 2]]}}"#, "instances[1].geometry.keypoints"),
                (#"{"label": "person", "kind": "mask", "geometry": {"mask": {"size": [2, 2], "counts": [1, 1]}}}"#, "instances[1].geometry.mask.size"),
                (#"{"label": "person", "kind": "line", "geometry": {"line": [[0, 0]]}}"#, "instances[1].geometry.line"),
                (#"{"kind": "global"}"#, "instances[1].label"),
                (#"{"label": "person", "kind": "box", "bbox": [0, 0, 1]}"#, "instances[1].bbox[3]"),
            ]
            for (instance, field) in cases {
                let body = #"{"instances": [{"label": "person", "kind": "box", "bbox": [0, 0, 1, 1]}, \#(instance)]}"#
                try await client.execute(uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .unprocessableContent || response.status == .badRequest, "\(instance)")
                    let checked = try Self.error(response)
                    #expect(checked.field == field, "\(instance)")
                }
            }
            let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
            try await client.execute(
                uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: #"{"instances": \#(deep)}"#)
            ) { #expect($0.status == .badRequest) }
            let now = try await setup.store.annotatedFile(id: file.file.id)!
            #expect(now.instances.count == file.instances.count, "nothing of a refused write is kept")
            #expect(now.file.revision == file.file.revision)
        }
    }

    @Test func labelsAndKeysThroughTheAPI() async throws {
        try await withServer { client, setup in
            let created = try await client.execute(
                uri: "/api/v1/projects/coco-dataset/labels", method: .post, headers: setup.editor,
                body: ByteBuffer(string: ##"{"name": "bicycle", "color": "#112233"}"##)
            ) { response in
                #expect(response.status == .created)
                return try JSONDecoder().decode(Label.self, from: Data(buffer: response.body))
            }
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/labels", method: .post, headers: setup.editor,
                body: ByteBuffer(string: #"{"name": "bicycle"}"#)
            ) { #expect($0.status == .conflict) }
            let renamed = try await client.execute(
                uri: "/api/v1/projects/coco-dataset/labels/\(created.id)", method: .patch, headers: setup.editor,
                body: ByteBuffer(string: ##"{"name": "bike", "color": "#445566"}"##)
            ) { try JSONDecoder().decode(Label.self, from: Data(buffer: $0.body)) }
            #expect(renamed.name == "bike" && renamed.color == "#445566" && renamed.id == created.id)

            let keys = "/api/v1/projects/coco-dataset/keys"
            try await client.execute(uri: keys, method: .post, headers: setup.editor, body: ByteBuffer(string: #"{"role": "viewer"}"#)) {
                #expect($0.status == .forbidden, "an editor does not make keys")
            }
            let token = try await client.execute(
                uri: keys, method: .post, headers: setup.admin, body: ByteBuffer(string: #"{"role": "editor"}"#)
            ) { response in
                #expect(response.status == .created)
                guard case .object(let reply) = try Self.json(response) else { return String?.none }
                return reply["key"]?.stringValue
            }
            let made = try #require(token)
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset/labels", method: .post, headers: [.authorization: "Bearer \(made)"],
                body: ByteBuffer(string: #"{"name": "car"}"#)
            ) { #expect($0.status == .created, "the new key writes") }
            try await client.execute(
                uri: "/api/v1/projects/coco-dataset", method: .patch, headers: setup.admin,
                body: ByteBuffer(string: #"{"public": false}"#)
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/projects/coco-dataset/labels", method: .get) {
                #expect($0.status == .unauthorized, "the project is private now")
            }
        }
    }
}

extension WriteRoutesTests {
    @Test func labelsAreDeletedOnlyWhenNoLiveInstanceCarriesThemAndEarlierVersionsKeepThem() async throws {
        try await withServer { client, setup in
            let uri = "/api/v1/projects/coco-dataset/labels"
            let person = try #require(try await setup.store.labels(projectID: "coco-dataset").first { $0.name == "person" })
            let before = try await setup.store.createSnapshot(datasetID: setup.dataset.id, name: "before")
            try await client.execute(uri: "\(uri)/\(person.id)", method: .delete, headers: setup.viewer) {
                #expect($0.status == .forbidden, "a viewer deletes nothing")
            }
            try await client.execute(uri: "\(uri)/\(person.id)", method: .delete, headers: setup.editor) { response in
                #expect(response.status == .conflict)
                #expect((try? Self.error(response).code) == "conflict")
            }
            // Every instance of the label goes (closed rows stay for earlier versions): now it may.
            for item in try await setup.store.items(datasetID: setup.dataset.id, range: 0..<setup.dataset.count) {
                let carried = item.instances.filter { $0.labelID == person.id }.map(\.id)
                if !carried.isEmpty {
                    _ = try await setup.store.editInstances(
                        fileID: item.file.id, .delete(ids: carried), expectedRevision: nil, createLabels: false)
                }
            }
            try await client.execute(uri: "\(uri)/\(person.id)", method: .delete, headers: setup.editor) {
                #expect($0.status == .noContent)
            }
            try await client.execute(uri: "\(uri)/\(person.id)", method: .delete, headers: setup.editor) {
                #expect($0.status == .notFound)
            }
            try await client.execute(
                uri: "\(uri)/\(person.id)", method: .patch, headers: setup.editor, body: ByteBuffer(string: #"{"name": "human"}"#)
            ) { #expect($0.status == .notFound, "a deleted label is not renamed") }
            let now = try await setup.store.labels(projectID: "coco-dataset")
            #expect(!now.contains { $0.id == person.id || $0.name == "person" })
            let point = try #require(try await setup.store.versionPoint(datasetID: setup.dataset.id, version: before.version))
            let then = try await setup.store.labels(projectID: "coco-dataset", at: point)
            #expect(then.contains(person), "the version before the deletion lists it, name and index")
            try await client.execute(uri: "/api/v1/datasets/\(setup.dataset.id)/slices", method: .post,
                headers: setup.editor, body: ByteBuffer(string: #"{"query": "labels.person > 0"}"#)
            ) { #expect($0.status == .unprocessableContent, "queries no longer know it") }
            let reused = try await client.execute(
                uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: #"{"name": "person"}"#)
            ) { response in
                #expect(response.status == .created)
                return try JSONDecoder().decode(Label.self, from: Data(buffer: response.body))
            }
            #expect(reused.index == then.count, "a new label takes a new index; the deleted one's stays empty")
        }
    }

    @Test func attributeGroupsAreCreatedAndRenamedOrDeletedOnlyWhileNoInstanceCarriesThem() async throws {
        try await withServer { client, setup in
            let uri = "/api/v1/projects/coco-dataset/attribute-groups"
            let group = try await client.execute(
                uri: uri, method: .post, headers: setup.editor,
                body: ByteBuffer(string: #"{"name": "weather", "kind": "select", "options": ["sun", "rain"]}"#)
            ) { response in
                #expect(response.status == .created)
                return try JSONDecoder().decode(AttributeGroup.self, from: Data(buffer: response.body))
            }
            #expect(group.kind == .select && group.options == ["sun", "rain"])
            try await client.execute(
                uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: #"{"name": "weather", "kind": "text"}"#)
            ) { #expect($0.status == .conflict) }
            let renamed = try await client.execute(
                uri: "\(uri)/\(group.id)", method: .patch, headers: setup.editor, body: ByteBuffer(string: #"{"name": "sky"}"#)
            ) { try JSONDecoder().decode(AttributeGroup.self, from: Data(buffer: $0.body)) }
            #expect(renamed.name == "sky")
            // Once an instance carries it, its name is how values are keyed: no rename, no delete.
            let file = try await setup.store.items(datasetID: setup.dataset.id, range: 0..<1)[0].file
            _ = try await setup.store.editInstances(
                fileID: file.id,
                .add([InstanceDraft(label: "person", kind: .global, attributes: ["sky": .string("sun")])]),
                expectedRevision: nil, createLabels: false)
            try await client.execute(
                uri: "\(uri)/\(group.id)", method: .patch, headers: setup.editor, body: ByteBuffer(string: #"{"name": "weather"}"#)
            ) { #expect($0.status == .conflict) }
            try await client.execute(uri: "\(uri)/\(group.id)", method: .delete, headers: setup.editor) {
                #expect($0.status == .conflict)
            }
            try await client.execute(
                uri: "\(uri)/\(group.id)", method: .patch, headers: setup.editor,
                body: ByteBuffer(string: #"{"options": ["sun", "rain", "snow"]}"#)
            ) { #expect($0.status == .ok, "options may change while it is carried") }
            let spare = try await client.execute(
                uri: uri, method: .post, headers: setup.editor, body: ByteBuffer(string: #"{"name": "spare", "kind": "text"}"#)
            ) { try JSONDecoder().decode(AttributeGroup.self, from: Data(buffer: $0.body)) }
            try await client.execute(uri: "\(uri)/\(spare.id)", method: .delete, headers: setup.editor) {
                #expect($0.status == .noContent)
            }
            let names = try await setup.store.attributeGroups(projectID: "coco-dataset").map(\.name)
            #expect(names == ["sky"])
        }
    }
}

extension HTTPFields {
    fileprivate func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}

extension FileManager {
    fileprivate func isDirectory(atPath path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
