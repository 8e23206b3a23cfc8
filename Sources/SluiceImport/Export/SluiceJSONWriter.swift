import Foundation
import SluiceModel
import SluiceStore

/// The `sluice-json` document: one JSON object, readable with any JSON parser, written in
/// order so that it streams:
///
///     {"format":"sluice-json","format_version":1,"dataset":{…},"labels":[…],"count":N,"items":[…]}
///
/// Items are the server's item wire JSON (`GET /datasets/{id}/items/{position}`), positions
/// being the dataset's; `labels` the project's labels in id order (tensor label indices).
struct SluiceJSONWriter {
    let dataset: Dataset
    let labels: [Label]

    func header(count: Int) throws -> JSONOutput {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var out = JSONOutput(capacity: 4096)
        out.raw("{\"format\":\"sluice-json\",\"format_version\":1,\"dataset\":")
        out.bytes.append(contentsOf: try encoder.encode(dataset))
        out.raw(",\"labels\":")
        out.bytes.append(contentsOf: try encoder.encode(labels))
        out.raw(",\"count\":")
        out.integer(count)
        out.raw(",\"items\":[")
        return out
    }

    func items(_ items: [StoredItem], first: Bool, into out: inout JSONOutput) {
        for (i, item) in items.enumerated() {
            if !(first && i == 0) { out.raw(UInt8(ascii: ",")) }
            out.raw(UInt8(ascii: "\n"))
            out.item(item)
        }
    }

    func footer() -> JSONOutput {
        var out = JSONOutput()
        out.raw("\n]}\n")
        return out
    }
}
