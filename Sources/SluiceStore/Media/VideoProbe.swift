import Foundation

/// What a video container says about its first video stream.
public struct VideoInfo: Sendable, Hashable {
    public var width: Int?
    public var height: Int?
    public var frameCount: Int?
    /// Frames per second (the stream's average rate).
    public var frameRate: Double?
    /// Seconds.
    public var duration: Double?
}

/// Reads a video's size, frame count, frame rate and duration with `ffprobe` (Debian's `ffmpeg`
/// package): containers are many and intricate, and a hand-written parser of them would be
/// wrong in the corners that matter.
public enum VideoProbe {
    public enum Failure: Error, CustomStringConvertible {
        case toolMissing
        case unreadable(path: String, reason: String)

        public var description: String {
            switch self {
            case .toolMissing: "ffprobe was not found on PATH: install Debian's ffmpeg package (apt install ffmpeg) to import videos"
            case .unreadable(let path, let reason): "\(path) is not a video ffprobe can read: \(reason)"
            }
        }
    }

    /// The facts of `path`'s first video stream. The frame count is the container's when it
    /// records one (MP4), else the number of packets ffprobe counts (WebM, Matroska).
    public static func probe(path: String) throws -> VideoInfo {
        guard let tool = executable("ffprobe") else { throw Failure.toolMissing }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [
            "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
            "stream=width,height,nb_frames,nb_read_packets,avg_frame_rate,r_frame_rate,duration:format=duration",
            "-of", "json", "--", path,
        ]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let reason = String(decoding: said.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0,
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let stream = (object["streams"] as? [[String: Any]])?.first
        else {
            throw Failure.unreadable(path: path, reason: reason.isEmpty ? "it has no video stream" : reason)
        }
        func integer(_ value: Any?) -> Int? {
            if let n = value as? Int { return n }
            return (value as? String).flatMap { Int($0) }
        }
        func seconds(_ value: Any?) -> Double? { (value as? String).flatMap(Double.init).flatMap { $0.isFinite ? $0 : nil } }
        let format = object["format"] as? [String: Any]
        let frames = integer(stream["nb_frames"]).flatMap { $0 > 0 ? $0 : nil } ?? integer(stream["nb_read_packets"])
        return VideoInfo(
            width: integer(stream["width"]), height: integer(stream["height"]), frameCount: frames,
            frameRate: rate(stream["avg_frame_rate"] as? String) ?? rate(stream["r_frame_rate"] as? String),
            duration: seconds(stream["duration"]) ?? seconds(format?["duration"]))
    }

    /// `30000/1001` → 29.97; nil for `0/0`.
    static func rate(_ text: String?) -> Double? {
        guard let parts = text?.split(separator: "/"), parts.count == 2, let n = Double(parts[0]), let d = Double(parts[1]), d > 0,
            n > 0
        else { return nil }
        return n / d
    }

    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":") + ["/usr/bin"]).map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
