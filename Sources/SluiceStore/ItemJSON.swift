import SluiceModel


/// Writes stored items in the wire format of `Item`, splicing the stored JSON columns in
/// as they are: no decode/encode round trip per instance on the streaming path. The server
/// and the sluice-json export write items with it.
extension JSONOutput {
    public mutating func item(_ item: StoredItem) {
        raw("{\"position\":")
        integer(item.position)
        raw(",\"file\":")
        file(item.file)
        raw(",\"instances\":[")
        for (i, instance) in item.instances.enumerated() {
            if i > 0 { raw(UInt8(ascii: ",")) }
            self.instance(instance)
        }
        raw(item.isRemoved ? "],\"removed\":true}" : "]}")
    }

    public mutating func file(_ f: StoredFile) {
        raw("{\"id\":")
        integer(f.id)
        raw(",\"project_id\":")
        string(f.projectID)
        raw(",\"type\":\"")
        raw(f.type.rawValue)
        raw("\",\"name\":")
        string(f.name)
        raw(",\"media\":")
        media(f.media)
        raw(",\"metadata\":")
        raw(f.metadataJSON)
        raw(",\"status\":\"")
        raw(f.status.rawValue)
        raw("\",\"created_at\":")
        timestamp(f.createdAt)
        raw(",\"updated_at\":")
        timestamp(f.updatedAt)
        raw(",\"revision\":")
        integer(f.revision)
        raw(UInt8(ascii: "}"))
    }

    public mutating func media(_ m: Media) {
        raw(UInt8(ascii: "{"))
        var first = true
        func field(_ out: inout JSONOutput, _ name: StaticString) {
            if !first { out.raw(UInt8(ascii: ",")) }
            first = false
            out.key(name)
        }
        if let v = m.sha256 {
            field(&self, "sha256")
            string(v)
        }
        if let v = m.mimeType {
            field(&self, "mime_type")
            string(v)
        }
        if let v = m.byteSize {
            field(&self, "byte_size")
            integer(v)
        }
        if let v = m.width {
            field(&self, "width")
            integer(v)
        }
        if let v = m.height {
            field(&self, "height")
            integer(v)
        }
        if let v = m.frameCount {
            field(&self, "frame_count")
            integer(v)
        }
        if let v = m.frameRate {
            field(&self, "frame_rate")
            number(v)
        }
        raw(UInt8(ascii: "}"))
    }

    public mutating func instance(_ i: StoredInstance) {
        raw("{\"id\":")
        integer(i.id)
        raw(",\"file_id\":")
        integer(i.fileID)
        if let labelID = i.labelID {
            raw(",\"label_id\":")
            integer(labelID)
        }
        if let label = i.label {
            raw(",\"label\":")
            string(label)
        }
        raw(",\"kind\":\"")
        raw(i.kind.rawValue)
        raw(UInt8(ascii: "\""))
        if let b = i.bbox {
            raw(",\"bbox\":[")
            number(b.xMin)
            raw(UInt8(ascii: ","))
            number(b.yMin)
            raw(UInt8(ascii: ","))
            number(b.xMax)
            raw(UInt8(ascii: ","))
            number(b.yMax)
            raw(UInt8(ascii: "]"))
        }
        raw(",\"geometry\":")
        raw(i.geometryJSON)
        if let area = i.area {
            raw(",\"area\":")
            number(area)
        }
        raw(",\"iscrowd\":")
        bool(i.isCrowd)
        if let v = i.score {
            raw(",\"score\":")
            number(v)
        }
        if let v = i.frame {
            raw(",\"frame\":")
            integer(v)
        }
        if let v = i.track {
            raw(",\"track\":")
            integer(v)
        }
        raw(",\"attributes\":")
        raw(i.attributesJSON)
        raw(",\"metadata\":")
        raw(i.metadataJSON)
        if let v = i.creator {
            raw(",\"creator\":")
            string(v)
        }
        raw(",\"created_at\":")
        timestamp(i.createdAt)
        raw(",\"updated_at\":")
        timestamp(i.updatedAt)
        raw(",\"deleted\":")
        bool(i.isDeleted)
        raw(UInt8(ascii: "}"))
    }
}
