/// Refuses a multipart body whose part header names hold a byte of 0x80 or more, before
/// MultipartKit's parser sees it.
///
/// MultipartKit 4.7.1 looks such a byte up in a 128-entry table and traps (index out of
/// range): one request would stop the server. Schemathesis found it. The guard follows the
/// body as the parser will: it finds each delimiter line (`\r\n--boundary`, across chunks),
/// then reads the header lines after it up to the empty line, checking the bytes before each
/// `:`. Everything else passes untouched; the parser still judges the syntax.
struct MultipartHeaderGuard {
    struct NonASCIIHeaderName: Error, CustomStringConvertible {
        var description: String { "a part's header name has a byte that is not ASCII" }
    }

    private enum State {
        case searching
        case delimiterLine
        case headerName(lineStart: Bool)
        case headerValue
    }

    /// `\r\n--boundary`: the body is read as if it began with `\r\n`, so the first delimiter
    /// (which has none) matches too.
    private let delimiter: [UInt8]
    /// KMP failure function of `delimiter`.
    private let fallback: [Int]
    private var matched = 2
    private var state = State.searching

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
        var fallback = [0]
        var length = 0
        for index in delimiter.indices.dropFirst() {
            while length > 0, delimiter[index] != delimiter[length] { length = fallback[length - 1] }
            if delimiter[index] == delimiter[length] { length += 1 }
            fallback.append(length)
        }
        self.fallback = fallback
    }

    mutating func check(_ bytes: some Sequence<UInt8>) throws(NonASCIIHeaderName) {
        for byte in bytes {
            switch state {
            case .searching:
                while matched > 0, byte != delimiter[matched] { matched = fallback[matched - 1] }
                if byte == delimiter[matched] { matched += 1 }
                if matched == delimiter.count {
                    matched = 0
                    state = .delimiterLine
                }
            case .delimiterLine:
                if byte == UInt8(ascii: "\n") { state = .headerName(lineStart: true) }
            case .headerName(let lineStart):
                switch byte {
                case UInt8(ascii: ":"): state = .headerValue
                case UInt8(ascii: "\r"): break
                case UInt8(ascii: "\n"):
                    // An empty line ends the headers; the part's content follows.
                    // (A delimiter right after it counts too: `matched` starts past its `\r\n`.)
                    if lineStart {
                        state = .searching
                        matched = 2
                    } else {
                        state = .headerName(lineStart: true)
                    }
                case 0x80...: throw NonASCIIHeaderName()
                default: state = .headerName(lineStart: false)
                }
            case .headerValue:
                if byte == UInt8(ascii: "\n") { state = .headerName(lineStart: true) }
            }
        }
    }
}
