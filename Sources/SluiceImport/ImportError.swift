import SluiceModel

/// Why an import was rejected. Nothing of a rejected import is kept.
public enum ImportError: Error, Equatable, CustomStringConvertible {
    /// A value is missing or has the wrong shape, at a JSON path such as `annotations[1041].bbox`.
    case malformed(path: String, expected: String, line: Int)
    /// The file is not well-formed JSON.
    case syntax(JSONSyntaxError)
    /// A reference to an id that the file never defines.
    case unknownReference(path: String, kind: String, id: Int64)
    /// Two elements share an id that must be unique.
    case duplicateID(path: String, kind: String, id: Int64)
    /// A media file the annotations name is not where `--images` says.
    case missingMedia(path: String, file: String)
    case unreadable(path: String)
    /// A path in the import file that would lead outside the directory it is relative to.
    case unsafePath(path: String, file: String, reason: String)
    /// The import was stopped (its client went away): nothing of it is kept.
    case cancelled
    /// A fault in one file of a folder import (Pascal VOC, YOLO): the file relative to the
    /// folder, its line, the element path or field, and what was wrong.
    case invalid(file: String, line: Int, path: String, message: String)

    public var description: String {
        switch self {
        case .malformed(let path, let expected, let line): "\(path): expected \(expected) (line \(line))"
        case .syntax(let error): "malformed JSON at \(error)"
        case .unknownReference(let path, let kind, let id): "\(path): no \(kind) with id \(id) in the file"
        case .duplicateID(let path, let kind, let id): "\(path): duplicate \(kind) id \(id)"
        case .missingMedia(let path, let file): "\(path): media file not found: \(file)"
        case .unreadable(let path): "cannot read \(path)"
        case .unsafePath(let path, let file, let reason): "\(path): '\(file)' is refused: \(reason)"
        case .cancelled: "the import was cancelled; nothing of it was kept"
        case .invalid(let file, let line, let path, let message):
            "\(file):\(line)\(path.isEmpty ? "" : ": \(path)"): \(message)"
        }
    }
}
