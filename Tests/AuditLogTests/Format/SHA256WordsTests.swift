import Crypto
import Foundation
import Testing

@testable import AuditLog

/// The per-record SHA-256 (BoringSSL's functions called directly where swift-crypto links them
/// in) gives swift-crypto's digests, for every split of prefix, word and body.
@Suite struct SHA256WordsTests {
    static func bytes(of words: SHA256Words.Words) -> [UInt8] {
        var w = words
        return withUnsafeBytes(of: &w) { Array($0) }
    }

    @Test func directPathIsLinkedOnLinux() {
        #if os(Linux)
            #expect(SHA256Words.direct)
        #endif
    }

    /// On a CPU with the SHA extensions (x86-64: CPUID leaf 7 EBX bit 29), the hash goes straight
    /// to BoringSSL's SHA-NI compression function.
    @Test func theSHAExtensionsAreUsedWhereTheCPUHasThem() throws {
        #if os(Linux) && arch(x86_64)
            let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ")) } ?? []
            #expect(SHA256Words.usesSHAExtensions == (flags.contains("sha_ni") && flags.contains("ssse3")))
        #endif
    }

    @Test func knownAnswer() {
        let abc = Array("abc".utf8)
        let words = abc.withUnsafeBytes { SHA256Words.hash(prefix: UnsafeRawBufferPointer(rebasing: $0[0..<1]), body: UnsafeRawBufferPointer(rebasing: $0[1...])) }
        #expect(Hex.encode(Self.bytes(of: words)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func bothPathsAgreeWithSwiftCrypto() {
        var rng = SplitMix64(seed: 16)
        // Around the block edges, and around the largest message hashed with one call (503 bytes,
        // prefix and word included): the lengths either side take both paths.
        for n in [0, 1, 55, 56, 63, 64, 65, 119, 200, 430, 454, 462, 470, 471, 478, 479, 494, 495, 502, 503, 504, 1000, 4097] {
            let body = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for prefixLength in [0, 1, 9, 32] {
                let prefix = (0..<prefixLength).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let word = rng.next()
                let expected = Array(SHA256.hash(data: prefix + withUnsafeBytes(of: word.littleEndian) { Array($0) } + body))
                let plain = Array(SHA256.hash(data: prefix + body))
                prefix.withUnsafeBytes { p in
                    body.withUnsafeBytes { b in
                        #expect(Self.bytes(of: SHA256Words.hash(prefix: p, word: word, body: b)) == expected, "n \(n) prefix \(prefixLength)")
                        #expect(Self.bytes(of: SHA256Words.hash(prefix: p, body: b)) == plain)
                        #expect(Self.bytes(of: SHA256Words.swiftCrypto(prefix: p, body: b)) == plain)
                        if SHA256Words.direct {
                            // The compression function chosen, BoringSSL's dispatching one, and its context functions.
                            for path in SHA256Words.BoringSSLPath.allCases {
                                #expect(Self.bytes(of: SHA256Words.boringSSL(prefix: p, body: b, path: path)) == plain, "\(path)")
                            }
                        }
                    }
                }
            }
        }
    }
}
