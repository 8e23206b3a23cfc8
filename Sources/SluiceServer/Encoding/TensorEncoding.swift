import NIOCore
import SluiceModel
import SluiceStore
import SluiceTensors

/// Stored items as tensor records (`ItemTensors`), written without the model round trip the
/// item JSON avoids too: only the geometry of instances that have polygons or keypoints is
/// decoded, and the media bytes are not copied into the record.
enum TensorEncoding {
    /// The record of `item` up to its media bytes: the length prefix, the header (with the
    /// `image` tensor of `mediaBytes` bytes last) and the standard tensors' data.
    static func recordPrefix(_ item: StoredItem, labelIndex: [Int64: Int], mediaBytes: Int?) throws -> ByteBuffer {
        let (tensors, file) = try self.tensors(item, labelIndex: labelIndex)
        let prefix = tensors.encodedPrefix(
            imageBytes: mediaBytes, metadata: tensors.metadata(file: file, position: item.position))
        var buffer = ByteBuffer()
        buffer.reserveCapacity(8 + prefix.count)
        buffer.writeInteger(UInt64(prefix.count + (mediaBytes ?? 0)), endianness: .little)
        buffer.writeBytes(prefix)
        return buffer
    }

    /// The standard tensors of `item`, and its file as a model value.
    static func tensors(_ item: StoredItem, labelIndex: [Int64: Int]) throws -> (ItemTensors, File) {
        let file = try self.file(item.file)
        let tensors = ItemTensors(
            instances: try item.instances.map(instance), imageID: ItemTensors.imageID(of: file), labelIndex: labelIndex)
        return (tensors, file)
    }

    static func file(_ stored: StoredFile) throws -> File {
        File(
            id: stored.id, projectID: stored.projectID, type: stored.type, name: stored.name, media: stored.media,
            metadata: try WireDecoder.object(fromJSON: stored.metadataJSON), status: stored.status,
            createdAt: stored.createdAt, updatedAt: stored.updatedAt, revision: stored.revision)
    }

    static func instance(_ stored: StoredInstance) throws -> Instance {
        // "{}" is what a box or a tag stores: most instances skip the parse.
        let geometry = stored.geometryJSON.utf8.count <= 2 ? Geometry() : try WireDecoder.geometry(fromJSON: stored.geometryJSON)
        return Instance(
            id: stored.id, fileID: stored.fileID, labelID: stored.labelID, label: stored.label, kind: stored.kind,
            bbox: stored.bbox, geometry: geometry, area: stored.area, isCrowd: stored.isCrowd, score: stored.score,
            frame: stored.frame, track: stored.track, createdAt: stored.createdAt, updatedAt: stored.updatedAt,
            isDeleted: stored.isDeleted)
    }
}
