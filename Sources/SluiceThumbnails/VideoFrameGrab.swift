import Foundation

/// One frame of a stored video as a still image, decoded by Debian's `ffmpeg`: a video's tile in
/// the gallery is its first annotated frame, and decoding a container's codecs is a library's
/// work, not ours.
enum VideoFrameGrab {
    /// Seconds ffmpeg may take for one frame before it is stopped.
    static let timeout: Double = 30

    /// Writes frame `frame` of the video at `source` as a PNG at `output`. Blocking.
    ///
    /// The seek is by time: `-ss` before the input seeks to the keyframe before and decodes
    /// forward, keeping the first frame whose timestamp is not earlier than the time asked.
    /// A quarter frame early, so that rounding never skips frame `frame` for the one after it.
    static func png(of source: String, frame: Int, frameRate: Double, to output: String) throws {
        guard let tool = executable("ffmpeg") else {
            throw ThumbnailError.unavailable("ffmpeg was not found on PATH: install Debian's ffmpeg package to thumbnail videos")
        }
        let seconds = max(0, (Double(frame) - 0.25) / frameRate)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        // The frame is shrunk to at most 2048 pixels a side before it is written: a thumbnail is
        // at most 1024, and a stranger's 16k video must not become a gigabyte of PNG.
        process.arguments = [
            "-v", "error", "-nostdin", "-y", "-ss", String(format: "%.6f", seconds), "-i", source,
            "-frames:v", "1", "-vf", "scale=w='min(iw,2048)':h='min(ih,2048)':force_original_aspect_ratio=decrease",
            "-f", "image2", "-c:v", "png", output,
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // A stranger's file must not hold a thread of the pool for ever.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        // ffmpeg exits 0 with no output when the seek lands past the last frame.
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: output) else {
            let reason = String(decoding: said.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ThumbnailError.undecodable(reason.isEmpty ? "frame \(frame) could not be decoded" : reason)
        }
    }

    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":") + ["/usr/bin"]).map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
