extension Substring {
    /// The text without leading and trailing whitespace (`Character.isWhitespace`, newlines
    /// included). Foundation's `trimmingCharacters(in:)` bridges through `NSString` on Linux and
    /// was a tenth of a VOC import; most values in annotation files have nothing to trim, and
    /// this answers those from their first and last byte.
    func trimmed() -> String {
        guard let first = utf8.first, let last = utf8.last else { return "" }
        if Self.isPrintableASCII(first), Self.isPrintableASCII(last) { return String(self) }
        guard let start = firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let end = lastIndex(where: { !$0.isWhitespace })!
        return String(self[start...end])
    }

    /// A printable ASCII byte: never whitespace, and never inside a longer character's encoding.
    private static func isPrintableASCII(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }
}

extension String {
    /// `Substring.trimmed()` of the whole string.
    func trimmed() -> String { self[...].trimmed() }
}
