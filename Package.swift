// swift-tools-version:6.1
import PackageDescription

// Module graph (DESIGN.md "Modules"): imports only point down this list.
//   SluiceModel ← SluiceQuery ← SluiceStore ← SluiceImport ← SluiceServer
//   SluiceModel ← SluiceTensors;  Sluice (SDK) imports Model, Query, Tensors only.
//   CVips ← SluiceThumbnails ← SluiceServer, sluice (libvips, a system library, only there;
//   the CLI passes its mask decoder to the LabelMe importer); CLibXML2 ← SluiceImport (libxml2).
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Sluice", targets: ["Sluice"]),
        .library(name: "SluiceServer", targets: ["SluiceServer"]),
        .executable(name: "sluice", targets: ["sluice"]),
        // Every library module, for the benchmarks package and other tools built beside Sluice.
        .library(
            name: "SluiceKit",
            targets: ["SluiceModel", "SluiceQuery", "SluiceTensors", "SluiceStore", "SluiceImport", "SluiceServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // `swift package generate-documentation --target Sluice`: the SDK's DocC reference.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(name: "SluiceModel", swiftSettings: swiftSettings),
        .target(name: "SluiceQuery", dependencies: ["SluiceModel"], swiftSettings: swiftSettings),
        .target(name: "SluiceTensors", dependencies: ["SluiceModel"], swiftSettings: swiftSettings),
        .target(
            name: "SluiceStore",
            dependencies: [
                "SluiceModel", "SluiceQuery",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // libvips from Debian (libvips-dev), for the web page's thumbnails.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .target(name: "SluiceThumbnails", dependencies: ["CVips"], swiftSettings: swiftSettings),
        // libxml2 from Debian (libxml2-dev), for the XML import formats.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(
            name: "SluiceImport",
            dependencies: ["SluiceModel", "SluiceStore", "CLibXML2"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceServer",
            dependencies: [
                "SluiceModel", "SluiceQuery", "SluiceTensors", "SluiceStore", "SluiceImport", "SluiceThumbnails",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            // The web page (plain HTML, CSS and JavaScript modules, no build step), served as is.
            resources: [.copy("Web")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Sluice",
            dependencies: [
                "SluiceModel", "SluiceQuery", "SluiceTensors",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "Sluice", "SluiceServer", "SluiceImport", "SluiceStore", "SluiceModel", "SluiceQuery",
                // LabelMe's PNG masks are decoded by libvips, which only SluiceThumbnails links.
                "SluiceThumbnails",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SluiceTestSupport",
            dependencies: [
                "SluiceModel", "SluiceStore", "SluiceImport", "SluiceServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SluiceTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceModelTests",
            dependencies: ["SluiceModel"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceTensorsTests",
            dependencies: ["SluiceTensors"],
            // A record written by the Python safetensors library, read by a test.
            exclude: ["Data"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceQueryTests",
            dependencies: ["SluiceQuery", "SluiceModel"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceStoreTests",
            dependencies: [
                "SluiceStore", "SluiceTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceImportTests",
            dependencies: ["SluiceImport", "SluiceStore", "SluiceTestSupport", "SluiceThumbnails"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceServerTests",
            dependencies: [
                "SluiceServer", "SluiceQuery", "SluiceTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // Generated from the Swift blocks of README.md and docs/ (scripts/doc_examples.py).
        .testTarget(
            name: "DocExamplesTests",
            dependencies: ["Sluice", "SluiceStore", "SluiceTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SluiceTests",
            dependencies: [
                "Sluice", "SluiceQuery", "SluiceTestSupport", "SluiceImport", "SluiceStore", "SluiceServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
