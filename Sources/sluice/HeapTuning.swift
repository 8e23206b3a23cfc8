#if canImport(Glibc)
    import Glibc
#endif

/// glibc's allocator, tuned for streams of large buffers.
///
/// A media stream allocates and frees a buffer of an image's size (~100 KB) per item on both
/// sides. With glibc's defaults, the freed top of the heap is handed back to the kernel
/// (trimming) and the next allocation faults its pages in again, zeroed: a profile of
/// `sluice stream --media` spent ~15% of the client's CPU in page faults. Keeping up to
/// 256 MB freed for reuse, and serving allocations below 4 MB from the heap rather than from
/// fresh mappings, took the client's and the server's CPU per item down by about a quarter
/// (docs/decisions.md "Item frames").
///
/// `mallopt` is looked up at run time: Swift's Glibc module does not bring in `<malloc.h>`.
/// Its option numbers are glibc's ABI (`M_TRIM_THRESHOLD` -1, `M_MMAP_THRESHOLD` -3).
enum HeapTuning {
    static func keepFreedMemoryForReuse() {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
            let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
            _ = mallopt(-3, 4 << 20)
            _ = mallopt(-1, 256 << 20)
        #endif
    }
}
