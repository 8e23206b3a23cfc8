import SluiceQuery

/// Any text: the parser answers with a query or a positioned error, never a crash; a query
/// prints as text that parses to the same query (the formatter's round trip).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuery(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let query = try? QueryParser.parse(text) else { return 0 }
    let printed = query.normalized
    guard let again = try? QueryParser.parse(printed) else {
        fatalError("the printed form of \(text.debugDescription) does not parse: \(printed.debugDescription)")
    }
    guard again.normalized == printed else {
        fatalError("\(text.debugDescription) prints as \(printed.debugDescription), which prints as \(again.normalized.debugDescription)")
    }
    return 0
}
