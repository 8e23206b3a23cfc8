import Foundation

/// Where a YOLO folder keeps its class names, images and label files, in the three layouts
/// found in the wild: darknet's (`obj.data`, `obj.names`, `train.txt` listing images under
/// `data/`), Ultralytics' (`data.yaml`, `images/SUBSET/`, `labels/SUBSET/`), and the loose
/// one Datumaro also reads (`obj.names` beside `images/` and `labels/`).
struct YOLOLayout: Sendable {
    enum Kind: String, Sendable { case darknet, ultralytics, loose }

    struct Image: Sendable {
        var subset: String
        /// The image, relative to the root: the file's name in the dataset.
        var image: String
        /// Its label file, relative to the root (it may not exist: an image with no objects).
        var labels: String
    }

    let root: String
    let kind: Kind
    let names: [String]
    let images: [Image]

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "gif", "webp", "tif", "tiff"]

    init(root: String) throws {
        self.root = root
        guard FolderFiles.isDirectory(root) else { throw ImportError.unreadable(path: root) }
        let fm = FileManager.default
        func at(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }
        if fm.fileExists(atPath: at("obj.data")) {
            kind = .darknet
            let settings = try Self.keyValues(at("obj.data"), relative: "obj.data")
            let namesFile = Self.darknetRelative(settings["names"]?.value ?? "obj.names")
            let namesPath = try ConfinedPath.resolve(namesFile, in: root, field: "obj.data:\(settings["names"]?.line ?? 0): names")
            names = try Self.names(namesPath, relative: namesFile)
            var images: [Image] = []
            for key in ["train", "valid", "test"] {
                guard let entry = settings[key] else { continue }
                let listFile = Self.darknetRelative(entry.value)
                let listPath = try ConfinedPath.resolve(listFile, in: root, field: "obj.data:\(entry.line): \(key)")
                for (number, line) in try FolderFiles.lines(listPath, relative: listFile, limit: FolderFiles.maxListBytes) {
                    let text = line.trimmed()
                    guard !text.isEmpty else { continue }
                    let image = Self.darknetRelative(text)
                    _ = try ConfinedPath.resolve(image, in: root, field: "\(listFile):\(number)")
                    images.append(Image(subset: key == "valid" ? "val" : key, image: image, labels: Self.labelPath(image)))
                }
            }
            self.images = images
        } else if let yaml = ["data.yaml", "data.yml", "dataset.yaml"].first(where: { fm.fileExists(atPath: at($0)) }) {
            kind = .ultralytics
            let config = try UltralyticsConfig(path: at(yaml), relative: yaml)
            names = config.names
            var images: [Image] = []
            // coco128's and many others' val is their train folder: an image listed by two
            // subsets is one file, of the first that lists it (train, val, test).
            var listed: Set<String> = []
            for (subset, folder) in config.subsets {
                let base = config.path.map { ($0 as NSString).appendingPathComponent(folder) } ?? folder
                _ = try ConfinedPath.resolve(base, in: root, field: "\(yaml): \(subset)")
                images += Self.imagesBelow(root: root, folder: base).filter { listed.insert($0).inserted }.map {
                    Image(subset: subset, image: $0, labels: Self.ultralyticsLabelPath($0))
                }
            }
            self.images = images
        } else if fm.fileExists(atPath: at("obj.names")) {
            kind = .loose
            names = try Self.names(at("obj.names"), relative: "obj.names")
            // Datumaro's loose layout also comes as Images/ beside Annotations/.
            let imagesFolder = ["images", "Images"].first { FolderFiles.isDirectory(at($0)) } ?? "images"
            let labelsFolder = ["labels", "Annotations"].first { FolderFiles.isDirectory(at($0)) } ?? "labels"
            let subsets = FolderWalk.folders(in: at(imagesFolder))
            var images: [Image] = []
            for subset in subsets.isEmpty ? [""] : subsets {
                let folder = subset.isEmpty ? imagesFolder : "\(imagesFolder)/\(subset)"
                images += Self.imagesBelow(root: root, folder: folder).map {
                    Image(
                        subset: subset.isEmpty ? "default" : subset, image: $0,
                        labels: Self.labelPath(labelsFolder + $0.dropFirst(imagesFolder.count)))
                }
            }
            self.images = images
        } else {
            throw ImportError.invalid(
                file: ".", line: 0, path: "",
                message: "not a YOLO folder: expected obj.data (darknet), data.yaml (Ultralytics) or obj.names with images/")
        }
        guard !images.isEmpty else {
            throw ImportError.invalid(file: ".", line: 0, path: "", message: "no images found in the \(kind.rawValue) layout")
        }
    }

    /// Darknet configurations name files as `data/…`, relative to darknet's working directory.
    static func darknetRelative(_ path: String) -> String {
        path.hasPrefix("data/") ? String(path.dropFirst(5)) : path
    }

    /// `x/y.jpg` → `x/y.txt`: darknet keeps labels beside their images.
    static func labelPath(_ image: String) -> String { (image as NSString).deletingPathExtension + ".txt" }

    /// `images/train/a.jpg` → `labels/train/a.txt` (the last `images` segment becomes `labels`).
    static func ultralyticsLabelPath(_ image: String) -> String {
        var parts = image.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if let i = parts.lastIndex(of: "images") { parts[i] = "labels" }
        return labelPath(parts.joined(separator: "/"))
    }

    /// Images below `folder` (relative to `root`), recursively, sorted (`FolderWalk`: hidden
    /// entries left out, symbolic links not followed).
    static func imagesBelow(root: String, folder: String) -> [String] {
        FolderWalk.files(in: (root as NSString).appendingPathComponent(folder)) {
            imageExtensions.contains(FolderWalk.pathExtension($0).lowercased())
        }.map { folder.isEmpty ? $0 : "\(folder)/\($0)" }
    }

    /// `key = value` lines (obj.data), with their line numbers.
    static func keyValues(_ path: String, relative: String) throws -> [String: (value: String, line: Int)] {
        var values: [String: (String, Int)] = [:]
        for (number, line) in try FolderFiles.lines(path, relative: relative) {
            let text = line.trimmed()
            guard !text.isEmpty, !text.hasPrefix("#") else { continue }
            guard let equals = text.firstIndex(of: "=") else {
                throw ImportError.invalid(file: relative, line: number, path: "", message: "expected key = value")
            }
            values[text[..<equals].trimmed()] = (
                text[text.index(after: equals)...].trimmed(), number
            )
        }
        return values
    }

    /// One class name per line; class i is line i (blank lines at the end ignored).
    static func names(_ path: String, relative: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ImportError.invalid(file: relative, line: 0, path: "", message: "the class names file is missing")
        }
        var names = try FolderFiles.lines(path, relative: relative).map { $0.text.trimmed() }
        while names.last == "" { names.removeLast() }
        for (index, name) in names.enumerated() where name.isEmpty {
            throw ImportError.invalid(file: relative, line: index + 1, path: "", message: "a class needs a name")
        }
        return names
    }
}
