import SluiceModel

/// Any bytes: the streaming reader gives a value or a positioned syntax error, never a crash,
/// whether it reads from memory or in small chunks (which must agree).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONReader(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    var whole = JSONReader(bytes: bytes)
    var chunked = JSONReader(source: MemoryByteSource(bytes: bytes), chunkSize: 7)
    let a = Result { try whole.readValue() }
    let b = Result { try chunked.readValue() }
    switch (a, b) {
    case (.success(let x), .success(let y)):
        if x != y { fatalError("chunked reading differs from whole reading") }
    case (.failure, .failure): break
    default: fatalError("chunked and whole reading disagree on whether \(bytes.count) bytes are JSON")
    }
    return 0
}
