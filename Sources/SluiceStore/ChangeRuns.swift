/// Where a file sits, as the change feed records it.
struct FilePlace {
    var datasetID: Int64
    var position: Int
    var fileID: Int64
}

/// The change feed records a run of adjacent positions as one row: a write that touches a
/// block of files (a relabelled class, a re-imported range) is a few rows, not one per file.
/// Both engines cut their writes into rows here.
enum ChangeRuns {
    struct Run {
        var datasetID: Int64
        var positions: Range<Int>
        var fileIDs: [Int64]
    }

    /// The runs of `places`, by dataset, then position.
    static func of(_ places: [FilePlace]) -> [Run] {
        let sorted = places.sorted { ($0.datasetID, $0.position) < ($1.datasetID, $1.position) }
        var runs: [Run] = []
        for place in sorted {
            if let last = runs.last, last.datasetID == place.datasetID, last.positions.upperBound == place.position {
                runs[runs.count - 1].positions = last.positions.lowerBound..<(place.position + 1)
                runs[runs.count - 1].fileIDs.append(place.fileID)
            } else {
                runs.append(Run(datasetID: place.datasetID, positions: place.position..<(place.position + 1), fileIDs: [place.fileID]))
            }
        }
        return runs
    }

    /// The runs of ascending positions of one dataset.
    static func of(positions: [Int]) -> [Range<Int>] {
        of(positions.map { FilePlace(datasetID: 0, position: $0, fileID: 0) }).map(\.positions)
    }
}
