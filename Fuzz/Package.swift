// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets, kept out of the main package: they build only with
// `-sanitize=fuzzer` (scripts/fuzz.sh), which links libFuzzer's own `main`.
//
//   bash scripts/fuzz.sh 120      # each target for 120 s
let package = Package(
    name: "SluiceFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named, because a path dependency is otherwise known by its folder name, which differs per clone.
        .package(name: "Sluice", path: ".."),
    ],
    targets: [
        .target(name: "FuzzDriver", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzQuery", dependencies: ["FuzzDriver", .product(name: "SluiceKit", package: "Sluice")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzJSONReader", dependencies: ["FuzzDriver", .product(name: "SluiceKit", package: "Sluice")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzCOCOImport", dependencies: ["FuzzDriver", .product(name: "SluiceKit", package: "Sluice")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
