import SluiceModel

extension MediaStore {
    /// What the store holds for each draft's SHA-256, checked field by field before a write
    /// takes its lock: the digest well formed, the bytes present (uploaded first), and of the
    /// type the draft names. Either engine's `appendFiles` starts here.
    func describe(_ drafts: [FileDraft]) throws -> [String: StoredMedia] {
        var described: [String: StoredMedia] = [:]
        for (index, draft) in drafts.enumerated() {
            try SQLiteStore.checkName(draft.name, at: "files[\(index)].name")
            guard MediaStore.isSHA256(draft.sha256) else {
                throw StoreError.invalidField(
                    FieldError(path: "files[\(index)].sha256", message: "expected 64 lowercase hex digits"))
            }
            if described[draft.sha256] != nil { continue }
            let stored: StoredMedia?
            do {
                stored = try self.describe(sha256: draft.sha256)
            } catch {
                throw StoreError.invalidField(FieldError(path: "files[\(index)].sha256", message: "\(error)"))
            }
            guard let stored else {
                throw StoreError.invalidField(
                    FieldError(path: "files[\(index)].sha256", message: "the server has no media with this SHA-256: upload it first"))
            }
            if let type = draft.type, type != stored.fileType {
                throw StoreError.invalidField(
                    FieldError(
                        path: "files[\(index)].type",
                        message: "is \(type.rawValue) but the bytes are \(stored.fileType?.rawValue ?? "unknown")"))
            }
            described[draft.sha256] = stored
        }
        return described
    }

    /// The text lengths (`textLength(sha256:)`) of the drafts' text media that carry spans.
    func textLengths(of drafts: [FileDraft], described: [String: StoredMedia]) -> [String: Int] {
        var lengths: [String: Int] = [:]
        for draft in drafts
        where described[draft.sha256]?.fileType == .text && draft.instances.contains(where: { $0.geometry.span != nil }) {
            if lengths[draft.sha256] == nil, let length = textLength(sha256: draft.sha256) { lengths[draft.sha256] = length }
        }
        return lengths
    }
}
