// swift-tools-version: 6.0
// The README's library example as a package of its own that depends on AuditLog by path, so
// it compiles against the public API only (a target inside the main package would also see
// `package` declarations). scripts/test builds and runs it; ReadmeExampleTests checks that the
// README shows exactly the code between the markers in main.swift.
import PackageDescription

let package = Package(
    name: "ReadmeExample",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "AuditLog", path: "../..")],
    targets: [
        .executableTarget(
            name: "ReadmeExample",
            dependencies: [.product(name: "AuditLog", package: "AuditLog")],
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-warnings-as-errors"])]
        )
    ]
)
