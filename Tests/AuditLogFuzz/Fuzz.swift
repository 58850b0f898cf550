// libFuzzer target for the decoders of untrusted bytes (scripts/fuzz, docs/RELIABILITY.md).
// Built only with AUDITLOG_FUZZ=1 and `--sanitize=fuzzer` (libFuzzer supplies `main`).
// The first byte of an input picks the decoder: 0 event JSON, 1 binary record, 2 segment,
// 3 column frame body.
@_spi(Testing) import AuditLog

@_cdecl("LLVMFuzzerTestOneInput")
public func auditLogFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let body = UnsafeRawBufferPointer(rebasing: input[1...])
    switch input[0] % 4 {
    case 0: _ = try? DecoderFuzzing.eventJSON(body)
    case 1: _ = try? DecoderFuzzing.record(body)
    case 2: _ = try? DecoderFuzzing.segment(body)
    default: _ = try? DecoderFuzzing.columnFrame(body)
    }
    return 0
}
