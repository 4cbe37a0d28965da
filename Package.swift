// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "sightglass",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sightglass", targets: ["sightglass"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Configuration model shared by every module: flags, YAML file, SIGHTGLASS_* environment.
        .target(
            name: "SightglassConfig",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Request events, live aggregates and the exporters (Prometheus, JSON, CSV).
        .target(
            name: "SightglassTelemetry",
            dependencies: [
                "SightglassConfig",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The request ledger: every request and its rollups in SQLite or PostgreSQL, the batched writer, the analytics queries.
        .target(
            name: "SightglassStore",
            dependencies: [
                "SightglassConfig",
                "SightglassGovernance",
                "SightglassTelemetry",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Who may call what and how much: API keys (digests only), their scopes, the decision the request
        // path takes, and the limits and budgets it is held to.
        .target(
            name: "SightglassGovernance",
            dependencies: [
                "SightglassConfig", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // libc's memmem for the stream taps.
        .target(name: "CSightglassShims"),
        // The data plane: SwiftNIO listener, HTTP/1.1 framing, relay, stream taps, upstream pools.
        .target(
            name: "SightglassProxy",
            dependencies: [
                "CSightglassShims",
                "SightglassConfig",
                "SightglassGovernance",
                "SightglassTelemetry",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The control plane on Hummingbird: exports, health and status routes.
        .target(
            name: "SightglassDashboard",
            dependencies: [
                "SightglassConfig",
                "SightglassGovernance",
                "SightglassTelemetry",
                "SightglassProxy",
                "SightglassStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The web dashboard, compiled into the binary: no files to ship beside it.
            resources: [
                "index.html", "style.css", "app.js", "charts.js", "ui.js", "pages.js", "pages-live.js", "pages-catalog.js", "pages-ops.js",
                "pages-org.js", "pages-limits.js",
            ].map { .embedInCode("Web/" + $0) },
            swiftSettings: swiftSettings
        ),
        // A simulated OpenAI- and Ollama-compatible inference server.
        .target(
            name: "SightglassSimulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Wiring: the gateway service, model discovery, the demo traffic generator.
        .target(
            name: "SightglassServer",
            dependencies: [
                "SightglassConfig",
                "SightglassGovernance",
                "SightglassTelemetry",
                "SightglassProxy",
                "SightglassDashboard",
                "SightglassSimulator",
                "SightglassStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sightglass",
            dependencies: [
                "SightglassServer",
                "SightglassStore",
                "SightglassGovernance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Micro-benchmarks of the telemetry path, run by bench/run.
        .executableTarget(
            name: "sightglass-microbench",
            dependencies: ["SightglassTelemetry", "SightglassConfig", "SightglassGovernance"],
            path: "bench/Micro",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SightglassProxyTests",
            dependencies: ["SightglassProxy", .product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SightglassGovernanceTests",
            dependencies: ["SightglassGovernance", "SightglassConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SightglassConfigTests",
            dependencies: ["SightglassConfig", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SightglassTelemetryTests",
            dependencies: ["SightglassTelemetry", "SightglassConfig"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SightglassStoreTests",
            dependencies: [
                "SightglassStore", "SightglassTelemetry", "SightglassConfig", "SightglassGovernance",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SightglassDashboardTests",
            dependencies: [
                "SightglassDashboard",
                "SightglassConfig",
                "SightglassTelemetry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SightglassServerTests",
            dependencies: [
                "SightglassServer",
                "SightglassDashboard",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
