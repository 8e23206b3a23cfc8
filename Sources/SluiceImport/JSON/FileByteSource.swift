#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceModel

/// Bytes of a file, read with read(2).
public final class FileByteSource: ByteSource, Sendable {
    private let fd: Int32
    /// The file's size in bytes, for progress.
    public let size: Int

    public init(path: String) throws {
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImportError.unreadable(path: path) }
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            #if canImport(Glibc)
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            #elseif canImport(Musl)
            let n = Musl.read(fd, buffer.baseAddress, buffer.count)
            #else
            let n = Darwin.read(fd, buffer.baseAddress, buffer.count)
            #endif
            if n >= 0 { return n }
            if errno != EINTR { throw ImportError.unreadable(path: "file descriptor \(fd)") }
        }
    }
}

