import Foundation
import Testing

@testable import SluiceServer

@Suite struct SliceTokenTests {
    @Test func oneSliceHasOneID() {
        let ids = Set((0..<50).map { _ in SliceToken(datasetID: 3, query: "labels.cat > 2", version: 7).encoded })
        #expect(ids.count == 1, "the id is the same however often it is encoded")
        #expect(SliceToken(encoded: ids.first!) == SliceToken(datasetID: 3, query: "labels.cat > 2", version: 7))
    }
}
