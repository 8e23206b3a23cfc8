import ArgumentParser
import Foundation
import SluiceImport

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic COCO dataset for tests and benchmarks.",
        discussion: """
            Labels are skewed (a few frequent, many rare), instance counts vary around the mean, boxes
            stay inside their images. The same options and seed always write the same file.

              sluice generate --files 1000000 --instances-per-file 7 --labels 80 --out /tmp/gen
            """)

    @Option(help: "Number of images.")
    var files: Int

    @Option(help: "Mean number of instances per image.")
    var instancesPerFile: Int = 7

    @Option(help: "Number of labels.")
    var labels: Int = 80

    @Option(help: "Output directory (annotations.json, images/).")
    var out: String

    @Flag(help: "Also write a tiny PNG per image.")
    var images = false

    @Option(help: "Pad each image to about this many bytes (implies --images), e.g. 100000 for media benchmarks.")
    var imageBytes: Int = 0

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    func validate() throws {
        guard files >= 0, instancesPerFile >= 0, labels >= 1 else {
            throw ValidationError("--files and --instances-per-file must be ≥ 0 and --labels ≥ 1")
        }
    }

    func run() async throws {
        let line = ProgressLine()
        let started = Date()
        let generator = SyntheticCOCO(
            files: files, instancesPerFile: instancesPerFile, labels: labels, seed: seed, writeImages: images, imageBytes: imageBytes)
        let summary = try generator.write(to: absolutePath(out)) { done, total in
            let elapsed = Date().timeIntervalSince(started)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(total - done) / rate : 0
            line.update(String(format: "generating · %d/%d steps · %.0f/s · ETA %.0f s", done, total, rate, eta))
        }
        line.finish(
            "wrote \(summary.files) files, \(summary.instances) instances to \(summary.annotationsPath) "
                + String(format: "in %.1f s", Date().timeIntervalSince(started)))
    }
}
