import Hummingbird
import NIOConcurrencyHelpers

/// Streams open per client address, at most `limit` each (429 past it): one client cannot
/// hold every connection and reader of the server.
final class StreamSlots: Sendable {
    let limit: Int
    private let open = NIOLockedValueBox<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// A slot for one stream of `address`, given back when the slot is released.
    func take(for address: String) throws -> Slot {
        let taken = open.withLockedValue { open -> Bool in
            let count = open[address, default: 0]
            guard count < limit else { return false }
            open[address] = count + 1
            return true
        }
        guard taken else {
            throw APIError(
                .tooManyRequests, code: "too_many_streams",
                message: "this address has \(limit) streams open, the most this server allows (--max-streams-per-client)",
                headers: [.retryAfter: "1"])
        }
        return Slot(slots: self, address: address)
    }

    /// How many streams `address` has open now.
    func count(for address: String) -> Int {
        open.withLockedValue { $0[address, default: 0] }
    }

    fileprivate func release(_ address: String) {
        open.withLockedValue { open in
            let left = open[address, default: 1] - 1
            open[address] = left > 0 ? left : nil
        }
    }

    /// One stream's place: released when its body has been written (`release()`), or when the
    /// last reference to it goes (a response dropped unwritten), once either way.
    final class Slot: Sendable {
        let slots: StreamSlots
        let address: String
        private let held = NIOLockedValueBox(true)

        init(slots: StreamSlots, address: String) {
            self.slots = slots
            self.address = address
        }

        func release() {
            guard held.withLockedValue({ held in defer { held = false }; return held }) else { return }
            slots.release(address)
        }

        deinit { release() }
    }
}
