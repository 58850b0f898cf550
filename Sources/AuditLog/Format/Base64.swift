import struct Foundation.Data

/// Standard base64 (RFC 4648 §4, with padding), as checkpoints, signed notes and proofs carry
/// hashes, keys and signatures. Decoding is strict: any other character, or missing padding, is
/// refused.
package enum Base64 {
    package static func encode(_ bytes: some Sequence<UInt8>) -> String { Data(bytes).base64EncodedString() }

    package static func decode(_ text: some StringProtocol) -> [UInt8]? { Data(base64Encoded: String(text)).map { Array($0) } }
}
