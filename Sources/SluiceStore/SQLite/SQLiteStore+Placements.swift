import GRDB
import SluiceModel

/// Files removed from datasets, and copied or moved between them (docs/writes.md). Positions
/// are append-only: a removal closes the file's place at the clock value of the write, so
/// versions before it still read the file there, and positions after it never move.
extension SQLiteStore {
    public func removeFiles(datasetID: Int64, fileIDs: [Int64]) async throws -> Dataset {
        let (dataset, changed) = try await pool.write { db in
            guard try Self.fetchDatasetRow(db, id: datasetID) != nil else {
                throw StoreError.datasetNotFound(String(datasetID))
            }
            let positions = try Self.livePositions(db, datasetID: datasetID, fileIDs: fileIDs, field: "file_ids")
            guard !positions.isEmpty else { return (try Self.fetchDatasetRow(db, id: datasetID)!, Set<Int64>()) }
            let clock = try Self.advanceClock(db)
            try Self.close(db, datasetID: datasetID, positions: positions, at: clock, time: .now())
            return (try Self.fetchDatasetRow(db, id: datasetID)!, [datasetID])
        }
        changeNotifier.notify(datasetIDs: changed)
        return dataset
    }

    public func copyFiles(_ fileIDs: [Int64], into datasetID: Int64, movingFrom source: Int64?) async throws
        -> [AppendedFile]
    {
        let (appended, changed) = try await pool.write { db in
            guard let target = try Self.fetchDatasetRow(db, id: datasetID) else {
                throw StoreError.datasetNotFound(String(datasetID))
            }
            if let source {
                guard let from = try Self.fetchDatasetRow(db, id: source), from.projectID == target.projectID else {
                    throw StoreError.invalidField(
                        FieldError(path: "from", message: "no dataset \(source) in project \(target.projectID)"))
                }
                guard source != datasetID else {
                    throw StoreError.invalidField(FieldError(path: "from", message: "a file moves to another dataset"))
                }
            }
            var seen: Set<Int64> = []
            for (index, fileID) in fileIDs.enumerated() {
                let field = "file_ids[\(index)]"
                guard seen.insert(fileID).inserted else {
                    throw StoreError.invalidField(FieldError(path: field, message: "file \(fileID) is named twice"))
                }
                guard try String.fetchOne(db, sql: "SELECT project_id FROM files WHERE id = ?", arguments: [fileID])
                    == target.projectID
                else {
                    throw StoreError.invalidField(FieldError(path: field, message: "no file \(fileID) in project \(target.projectID)"))
                }
                if try Int.fetchOne(
                    db, sql: "SELECT position FROM dataset_files WHERE dataset_id = ? AND file_id = ? AND removed_at IS NULL",
                    arguments: [datasetID, fileID]) != nil
                {
                    throw StoreError.invalidField(
                        FieldError(path: field, message: "dataset \(target.name) holds file \(fileID) already"))
                }
            }
            let moved = try source.map { try Self.livePositions(db, datasetID: $0, fileIDs: fileIDs, field: "file_ids") }
            guard !fileIDs.isEmpty else { return ([AppendedFile](), Set<Int64>()) }
            let clock = try Self.advanceClock(db)
            let time = Timestamp.now()
            let insert = try db.cachedStatement(sql: "INSERT INTO dataset_files (dataset_id, position, file_id) VALUES (?, ?, ?)")
            var appended: [AppendedFile] = []
            for (index, fileID) in fileIDs.enumerated() {
                let position = target.count + index
                try insert.execute(arguments: [datasetID, position, fileID])
                appended.append(AppendedFile(position: position, file: try Self.fetchFile(db, id: fileID)))
            }
            let end = target.count + fileIDs.count
            try db.execute(
                sql: "UPDATE datasets SET file_count = ?, version = version + 1 WHERE id = ?", arguments: [end, datasetID])
            try Self.recordChange(db, datasetID: datasetID, kind: .added, positions: target.count..<end, at: time)
            var changed: Set<Int64> = [datasetID]
            if let source, let moved {
                try Self.close(db, datasetID: source, positions: moved, at: clock, time: time)
                changed.insert(source)
            }
            return (appended, changed)
        }
        changeNotifier.notify(datasetIDs: changed)
        return appended
    }

    static func fetchDatasetRow(_ db: GRDB.Database, id: Int64) throws -> Dataset? {
        try Row.fetchOne(db.cachedStatement(sql: "\(datasetColumns) WHERE id = ?"), arguments: [id]).map(dataset)
    }

    /// The live positions of `fileIDs` in the dataset, ascending; a file it does not hold is
    /// refused, naming its index in the request.
    static func livePositions(_ db: GRDB.Database, datasetID: Int64, fileIDs: [Int64], field: String) throws -> [Int] {
        let lookup = try db.cachedStatement(
            sql: "SELECT position FROM dataset_files WHERE dataset_id = ? AND file_id = ? AND removed_at IS NULL")
        var positions: Set<Int> = []
        for (index, fileID) in fileIDs.enumerated() {
            guard let position = try Int.fetchOne(lookup, arguments: [datasetID, fileID]) else {
                throw StoreError.invalidField(
                    FieldError(path: "\(field)[\(index)]", message: "dataset \(datasetID) does not hold file \(fileID)"))
            }
            positions.insert(position)
        }
        return positions.sorted()
    }

    /// Closes the places at `positions` at `clock`, advances the dataset's version, and records
    /// one `removed` change per run of adjacent positions.
    static func close(_ db: GRDB.Database, datasetID: Int64, positions: [Int], at clock: Int64, time: Timestamp) throws {
        let update = try db.cachedStatement(
            sql: "UPDATE dataset_files SET removed_at = ? WHERE dataset_id = ? AND position = ? AND removed_at IS NULL")
        for position in positions { try update.execute(arguments: [clock, datasetID, position]) }
        try db.execute(
            sql: "UPDATE datasets SET removed_count = removed_count + ?, version = version + 1 WHERE id = ?",
            arguments: [positions.count, datasetID])
        for run in ChangeRuns.of(positions: positions) {
            try recordChange(db, datasetID: datasetID, kind: .removed, positions: run, at: time)
        }
    }
}
