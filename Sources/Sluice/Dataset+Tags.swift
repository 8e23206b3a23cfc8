/// Tags on a dataset: names a slice query tests as `dataset.tag` (Diffgram's
/// `dataset_tag.tag`), e.g. `dataset.slice("dataset.tag = 'reviewed'")`.
extension Dataset {
    /// The dataset's tags, in byte order.
    public func tags() async throws -> [String] {
        let reply: DatasetTags = try await connection.get("/api/v1/datasets/\(id)/tags")
        return reply.tags
    }

    /// Adds tags (an editor key); those it has already stay. Returns all its tags. A tag has
    /// 1 to 256 bytes and no control characters: `SluiceError.server` 422 names the one at
    /// fault (`tags[1]`) and none is added.
    @discardableResult
    public func addTags(_ tags: [String]) async throws -> [String] {
        struct Body: Encodable { var tags: [String] }
        let reply: DatasetTags = try await connection.send(.POST, "/api/v1/datasets/\(id)/tags", json: Body(tags: tags))
        return reply.tags
    }

    /// Removes one tag (an editor key) and returns the tags left; `SluiceError.server` 404 when
    /// the dataset does not have it.
    @discardableResult
    public func removeTag(_ tag: String) async throws -> [String] {
        let reply: DatasetTags = try await connection.send(.DELETE, "/api/v1/datasets/\(id)/tags/\(tag.pathEscaped)", body: nil)
        return reply.tags
    }
}
