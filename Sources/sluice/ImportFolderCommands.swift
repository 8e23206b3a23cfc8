import ArgumentParser
import Foundation
import Sluice
import SluiceImport
import SluiceModel
import SluiceServer
import SluiceStore

/// `sluice import voc|yolo|labelme|cvat PATH`: the folder formats, imported in one transaction.
protocol ImportFolderCommand: AsyncParsableCommand {
    var path: String { get }
    var project: String { get }
    var dataset: String { get }
    var store: StoreOptions { get }
    var server: ServerOptions { get }
    /// The format's name on the server's import route.
    static var format: Sluice.Project.FolderFormat { get }
    /// `--images` and `--video`, for the formats that take them.
    var imagesFolder: String? { get }
    var videoFile: String? { get }
}

extension ImportFolderCommand {
    var imagesFolder: String? { nil }
    var videoFile: String? { nil }

    func run() async throws {
        guard let sluiceStore = try await store.open() else {
            try await importThroughServer()
            return
        }
        _ = try await sluiceStore.ensureProject(SluiceModel.Project(id: project, name: project))
        let line = ProgressLine()
        let summary = try await FolderImport.run(
            FolderImport.Format(rawValue: Self.format.rawValue)!, path: absolutePath(path), images: imagesFolder.map(absolutePath),
            video: videoFile.map(absolutePath), store: sluiceStore, project: project, dataset: dataset
        ) { progress in line.update("importing · \(progress.line)") }
        finish(line, files: summary.files, instances: summary.instances, labels: summary.labels, media: summary.media,
            seconds: summary.seconds, through: nil)
    }

    /// `--host`: the folder's files the server lacks and a listing of them go up, then the
    /// server imports them in one transaction.
    private func importThroughServer() async throws {
        let handle = try await Sluice.Project(id: project, host: server.host, apiKey: server.apiKey)
        let line = ProgressLine()
        let tree = try FolderUpload(
            format: Self.format, path: absolutePath(path), images: imagesFolder.map(absolutePath), video: videoFile.map(absolutePath))
        let listing = try await tree.upload(to: handle, line: line)
        let summary = try await handle.importFolder(
            Self.format, dataset: dataset, treeSHA256: listing, path: tree.path, images: tree.images, video: tree.video
        ) { progress in line.update("importing on the server · \(progress.line)") }
        finish(line, files: summary.files, instances: summary.instances, labels: summary.labels, media: summary.media,
            seconds: summary.seconds, through: server.host ?? ProcessInfo.processInfo.environment["SLUICE_HOST"] ?? "the server")
    }

    private func finish(_ line: ProgressLine, files: Int, instances: Int, labels: Int, media: Int, seconds: Double, through: String?) {
        let rate = seconds > 0 ? Double(instances) / seconds : 0
        line.finish(
            "imported \(files) files, \(instances) instances, \(labels) labels, \(media) media into \(project)/\(dataset)"
                + (through.map { " through \($0)" } ?? "") + " in \(String(format: "%.2f", seconds)) s (\(Int(rate)) instances/s)")
    }
}

struct ImportVOCCommand: ImportFolderCommand {
    static let configuration = CommandConfiguration(
        commandName: "voc",
        abstract: "Import a Pascal VOC folder (Annotations/, JPEGImages/, ImageSets/, labelmap.txt).",
        discussion: """
            Each image becomes a file (in the order of the sorted image ids), each <object> a box
            instance; difficult, truncated, occluded, pose, <actions> and <attributes> become
            attributes, <part>s boxes of their own label, the ImageSets subset the file's metadata.
            SegmentationObject/ID.png (decoded by libvips; palette or RGB in VOC's palette) gives
            object k the mask of its pixels of index k, on its box instance; 255 is void.
            One transaction: a fault names the XML or PNG file, its line and the element path or
            pixel, and nothing is kept.

              sluice import voc VOC2012/ --project voc --dataset trainval --data ~/sluice-data
            """)

    @Argument(help: "The VOC folder.")
    var path: String
    @Option(help: "Project id (created when missing).")
    var project: String
    @Option(help: "Dataset name (created when missing); files are appended.")
    var dataset: String
    @Option(help: "Where the images are, when not in PATH/JPEGImages.")
    var images: String?
    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions
    static let format = Sluice.Project.FolderFormat.voc
    var imagesFolder: String? { images }
}

struct ImportYOLOCommand: ImportFolderCommand {
    static let configuration = CommandConfiguration(
        commandName: "yolo",
        abstract: "Import a YOLO folder: darknet (obj.data), Ultralytics (data.yaml) or loose (obj.names, images/, labels/).",
        discussion: """
            Each image becomes a file named by its path in the folder, each label line a box
            (class cx cy w h) or a polygon (class x1 y1 x2 y2 …), in pixels of the image's own size.
            One transaction: a fault names the label file and its line, and nothing is kept.

              sluice import yolo coco128/ --project demo --dataset train --data ~/sluice-data
            """)

    @Argument(help: "The YOLO folder.")
    var path: String
    @Option(help: "Project id (created when missing).")
    var project: String
    @Option(help: "Dataset name (created when missing); files are appended.")
    var dataset: String
    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions
    static let format = Sluice.Project.FolderFormat.yolo
}

struct ImportCVATCommand: ImportFolderCommand {
    static let configuration = CommandConfiguration(
        commandName: "cvat",
        abstract: "Import CVAT for images or CVAT for video XML (a file, or a folder of .xml files with images/).",
        discussion: """
            Each <image> becomes a file, each shape an instance (box, polygon, polyline, points,
            ellipse, cuboid; tags as global instances), attributes typed by the label's input type.
            Each <track> becomes one instance per frame the object is visible on (frames between
            keyframes interpolated as CVAT's export does), with its frame, track id and a keyframe
            attribute, on the video (--video, or <source> beside the XML; read with ffprobe), else
            on the frame images in images/ (frame_000010.png), else on a video file with no media.
            One transaction: a fault names the XML file, its line and the element path, and
            nothing is kept.

              sluice import cvat annotations.xml --project traffic --dataset clip-7 --video clip-7.mp4 --data ~/sluice-data
            """)

    @Argument(help: "The CVAT XML file, or a folder of them (annotations.xml, or Datumaro's SUBSET.xml).")
    var path: String
    @Option(help: "Project id (created when missing).")
    var project: String
    @Option(help: "Dataset name (created when missing); files are appended.")
    var dataset: String
    @Option(help: "Where the images are, when not in images/ beside the XML.")
    var images: String?
    @Option(help: "The video a CVAT for video XML annotates, when it is not <source> beside the XML.")
    var video: String?
    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions
    static let format = Sluice.Project.FolderFormat.cvat
    var imagesFolder: String? { images }
    var videoFile: String? { video }
}

struct ImportLabelMeCommand: ImportFolderCommand {
    static let configuration = CommandConfiguration(
        commandName: "labelme",
        abstract: "Import a LabelMe folder: the labelme tool's JSON, or MIT LabelMe XML (Annotations/, Images/, Masks/).",
        discussion: """
            The form is told by content: XML files whose root is <annotation> are MIT LabelMe (as
            Datumaro writes it), JSON objects with a `shapes` array the labelme tool's. JSON: each
            image becomes a file named by its path in the folder, each shape an instance (rectangle
            box, polygon, point, line/linestrip line, circle ellipse), shape flags boolean
            attributes. XML: each <object> not deleted a polygon, a box (type bounding_box) or a
            mask (from Masks/, decoded by libvips); <attributes> and <occluded> attributes, <parts>
            instance metadata, <folder> the file's subset. One transaction: a fault names the file,
            its line and the element or JSON path, and nothing is kept.

              sluice import labelme scenes/ --project scenes --dataset all --data ~/sluice-data
            """)

    @Argument(help: "The LabelMe folder.")
    var path: String
    @Option(help: "Project id (created when missing).")
    var project: String
    @Option(help: "Dataset name (created when missing); files are appended.")
    var dataset: String
    @Option(help: "Where the images are: instead of PATH/Images (XML), the folder imagePath is relative to (JSON).")
    var images: String?
    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions
    static let format = Sluice.Project.FolderFormat.labelme
    var imagesFolder: String? { images }
}

struct ImportDoccanoCommand: ImportFolderCommand {
    static let configuration = CommandConfiguration(
        commandName: "doccano",
        abstract: "Import Doccano's JSONL export (a .jsonl file, or a folder of them) as text files with spans.",
        discussion: """
            Each line becomes a text file (STEM/ID.txt): [start, end, "LABEL"] spans and the relation
            form's entities become span instances (offsets in Unicode characters, end exclusive),
            category labels global instances, relations and other members (meta, Comments) the
            file's metadata. One transaction, one line in memory at a time: a fault names the file,
            its line and the member, and nothing is kept.

              sluice import doccano all.jsonl --project reviews --dataset ner --data ~/sluice-data
            """)

    @Argument(help: "The JSONL file, or a folder of them (Doccano's unpacked export).")
    var path: String
    @Option(help: "Project id (created when missing).")
    var project: String
    @Option(help: "Dataset name (created when missing); files are appended.")
    var dataset: String
    @OptionGroup var store: StoreOptions
    @OptionGroup var server: ServerOptions
    static let format = Sluice.Project.FolderFormat.doccano
}
