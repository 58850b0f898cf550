// swift-tools-version: 6.2
import PackageDescription

import class Foundation.ProcessInfo

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "AuditLog",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AuditLog", targets: ["AuditLog"]),
        .library(name: "AuditLogServices", targets: ["AuditLogServices"]),
        .library(name: "AuditLogHTTP", targets: ["AuditLogHTTP"]),
        .executable(name: "auditlog", targets: ["AuditLogCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CAuditLogLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"]), .brew(["lz4"])]
        ),
        .systemLibrary(
            name: "CAuditLogXXHash",
            pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"]), .brew(["xxhash"])]
        ),
        // Declarations of the SHA-256 functions swift-crypto's BoringSSL already links in.
        .systemLibrary(name: "CAuditLogSHA256"),
        // System calls the Swift Glibc module does not declare (sync_file_range).
        .systemLibrary(name: "CAuditLogPosix"),
        .target(
            name: "AuditLog",
            dependencies: [
                "CAuditLogLZ4",
                "CAuditLogXXHash",
                "CAuditLogSHA256",
                "CAuditLogPosix",
                .product(name: "Crypto", package: "swift-crypto"),
                // The archive's S3 requests (Sources/AuditLog/Archive).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // What it reports to the host's backends (Support/LibraryMetrics.swift).
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AuditLogServices",
            dependencies: [
                "AuditLog",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Webhook deliveries (Sources/AuditLogServices/Webhooks).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AuditLogHTTP",
            dependencies: [
                "AuditLog",
                "AuditLogServices",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The events console's page, styles and scripts, compiled into the binary.
            resources: [.embedInCode("Console/Assets")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AuditLogCLI",
            dependencies: [
                "AuditLog",
                "AuditLogHTTP",
                "AuditLogServices",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // serve bootstraps it for the library's metrics (swift-metrics) at /metrics.
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The writer process the crash test kills (Tests/AuditLogTests/Reliability).
        .executableTarget(
            name: "AuditLogCrashWriter",
            dependencies: ["AuditLog"],
            path: "Tests/AuditLogCrashWriter",
            swiftSettings: swiftSettings
        ),
        // What several test targets share: a moto S3 server on loopback (Tests/AuditLogTestSupport).
        .target(
            name: "AuditLogTestSupport",
            dependencies: ["AuditLog"],
            path: "Tests/AuditLogTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AuditLogTests",
            dependencies: ["AuditLog", "AuditLogServices", "AuditLogCrashWriter", "AuditLogTestSupport"],
            // The power-cut test's FUSE file system (Python, run by PowerCutTests).
            exclude: ["PowerCut"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AuditLogHTTPTests",
            dependencies: [
                "AuditLog",
                "AuditLogHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AuditLogCLITests",
            dependencies: [
                "AuditLog",
                "AuditLogCLI",
                "AuditLogTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // The independent tlog-tiles client the tests run with python3.
            exclude: ["Scripts"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The benchmark suite (ordo-one/benchmark) is opt-in so that library users never resolve it:
// `AUDITLOG_BENCHMARKS=1 swift package benchmark` (see Benchmarks/README.md).
if ProcessInfo.processInfo.environment["AUDITLOG_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "AuditLogBenchmarks",
            dependencies: [
                "AuditLog",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/AuditLogBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
    // Side by side with SQLite through GRDB (Benchmarks/compare.sh).
    package.dependencies.append(.package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"))
    package.targets += [
        // The stores and workloads, defined once for the table and the benchmark suite.
        .target(
            name: "CompareSupport",
            dependencies: ["AuditLog", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Benchmarks/CompareSupport",
            swiftSettings: swiftSettings
        ),
        // One table, both stores (Benchmarks/compare.sh).
        .executableTarget(
            name: "AuditLogCompare",
            dependencies: ["AuditLog", "CompareSupport"],
            path: "Benchmarks/AuditLogCompare",
            swiftSettings: swiftSettings
        ),
        // What the archive costs and how it reads (Benchmarks/archive.sh).
        .executableTarget(
            name: "ArchiveBench",
            dependencies: ["AuditLog"],
            path: "Benchmarks/ArchiveBench",
            swiftSettings: swiftSettings
        ),
        // What the Merkle tree and checkpoints cost (Benchmarks/evidence.sh).
        .executableTarget(
            name: "EvidenceBench",
            dependencies: ["AuditLog"],
            path: "Benchmarks/EvidenceBench",
            swiftSettings: swiftSettings
        ),
        // The regression guard: instructions and allocations against stored thresholds
        // (`make bench-check`).
        .executableTarget(
            name: "GuardBenchmarks",
            dependencies: ["AuditLog", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/GuardBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The same workloads as package-benchmark benchmarks, "AuditLog: …" beside "SQLite: …".
        .executableTarget(
            name: "CompareBenchmarks",
            dependencies: ["AuditLog", "CompareSupport", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/CompareBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
}

// libFuzzer target (scripts/fuzz): opt-in, as it links only with `--sanitize=fuzzer`.
if ProcessInfo.processInfo.environment["AUDITLOG_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "AuditLogFuzz",
            dependencies: ["AuditLog"],
            path: "Tests/AuditLogFuzz",
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
        )
    )
}
