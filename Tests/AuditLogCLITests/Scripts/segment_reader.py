"""Reads a log's segments from docs/FORMAT.md alone — the segment header, frames of codecs 0, 1
and 2 ("Column frames") — and prints, per segment, its version and per frame its codec, record
count and the SHA-256 of its decoded payload. Written from the spec, not from the Swift code,
so that the tests check the spec says enough to rebuild what the writer stored.

Usage: python3 segment_reader.py LOG_DIR...   (needs python3-lz4)
"""
import hashlib
import os
import struct
import sys

import lz4.block

FIELD_KINDS = ["byte"] + ["str"] * 8 + ["varint"] * 6 + ["byte"] + ["str"] * 5  # field bits 0-20
TAIL_BITS = 0b11111 << 21
COMPACT_ID = 1 << 26


class Damage(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Damage(what)


def read_varint(b, i):
    value = shift = 0
    while True:
        check(i < len(b), "varint runs past its bytes")
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            check(byte != 0 or shift == 7, "varint not in its shortest form")
            check(value < 1 << 64, "varint over 64 bits")
            return value, i


def varint_bytes(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def unzigzag(v):
    return (v >> 1) ^ -(v & 1)


def string_column(sec, m):
    """The m values of a string column, each as a str (length varint and bytes)."""
    if m == 0:
        check(len(sec) == 0, "a string column without values holds bytes")
        return []
    mode, i = sec[0], 1
    if mode == 0:
        values = []
        for _ in range(m):
            n, j = read_varint(sec, i)
            check(j + n <= len(sec), "plain value runs past its column")
            values.append(sec[i:j + n])
            i = j + n
        check(i == len(sec), "bytes after the plain values")
        return values
    check(mode in (1, 2), "unknown string column mode %d" % mode)
    d, i = read_varint(sec, i)
    check(1 <= d <= m, "table of %d values for %d records" % (d, m))
    table = []
    for _ in range(d):
        n, j = read_varint(sec, i)
        check(j + n <= len(sec), "table value runs past its column")
        table.append((sec[i:j + n], sec[j:j + n]))  # the whole str, its bytes
        i = j + n
    check(i < len(sec), "no code width")
    w = sec[i]
    i += 1
    check(w <= 32, "code width %d" % w)
    nbytes = (m * w + 7) // 8
    check(i + nbytes <= len(sec), "codes run past their column")
    bits = int.from_bytes(sec[i:i + nbytes], "little")
    i += nbytes
    codes = [(bits >> (k * w)) & ((1 << w) - 1) for k in range(m)]
    check(bits >> (m * w) == 0, "bits set past the last code")
    check(all(c < d for c in codes), "code past its table")
    if mode == 1:
        check(i == len(sec), "bytes after the codes")
        return [table[c][0] for c in codes]
    counts = []
    for _ in range(m):
        c, i = read_varint(sec, i)
        counts.append(c)
    values = []
    for c, code in zip(counts, codes):
        n = (c + 1) // 2
        check(i + n <= len(sec), "hex digits run past their column")
        packed = sec[i:i + n]
        i += n
        if c % 2:
            check(packed[-1] & 0x0F == 0, "odd digit count with a nonzero last nibble")
        value = table[code][1] + packed.hex()[:c].encode()
        values.append(varint_bytes(len(value)) + value)
    check(i == len(sec), "bytes after the hex digits")
    return values


def column_payload(stored, n, raw_length):
    """Rebuilds a codec-2 frame's payload: n entries of a length varint and a record."""
    check(len(stored) >= 4, "no body length")
    body_length = struct.unpack_from("<I", stored)[0]
    body = lz4.block.decompress(stored[4:], uncompressed_size=body_length)
    check(len(body) == body_length, "body decodes to %d bytes, not %d" % (len(body), body_length))
    i, lengths = 0, []
    for _ in range(28):
        length, i = read_varint(body, i)
        lengths.append(length)
    sections = []
    for length in lengths:
        check(i + length <= len(body), "section runs past the body")
        sections.append(body[i:i + length])
        i += length
    check(i == len(body), "bytes after the last section")
    presences, j = [], 0
    for _ in range(n):
        p, j = read_varint(sections[1], j)
        check(p < 1 << 27, "presence bits 27-31 set")
        presences.append(p)
    check(j == len(sections[1]), "presences past the records")

    def count(bit):
        return sum(1 for p in presences if p >> bit & 1)

    strings = {4: string_column(sections[4], n - count(26)), 5: string_column(sections[5], n)}
    for bit, kind in enumerate(FIELD_KINDS):
        if kind == "str":
            strings[6 + bit] = string_column(sections[6 + bit], count(bit))
    at = [0] * 28  # read position per section (per value for string columns)

    def next_string(s):
        value = strings[s][at[s]]
        at[s] += 1
        return value

    times = sections[0]
    check(len(times) >= 1 and times[0] <= 9, "time unit")
    unit, ti, previous = 10 ** times[0], 1, 0
    out = bytearray()
    for p in presences:
        delta, ti = read_varint(times, ti)
        previous += unzigzag(delta)
        time = previous * unit
        check(0 <= time < 1 << 63, "time out of range")
        record = bytearray(struct.pack("<qI", time, p))
        if p & COMPACT_ID:
            d, at[2] = read_varint(sections[2], at[2])
            high48 = time // 10 ** 6 + unzigzag(d)
            check(0 <= high48 < 1 << 48, "id time out of range")
            random = sections[3][at[3]:at[3] + 10]
            check(len(random) == 10, "id bits run out")
            at[3] += 10
            record += struct.pack("<Q", high48 << 16 | random[0] | random[1] << 8) + random[2:]
        else:
            record += next_string(4)
        record += next_string(5)
        for bit, kind in enumerate(FIELD_KINDS):
            if not p >> bit & 1:
                continue
            s = 6 + bit
            if kind == "str":
                record += next_string(s)
            elif kind == "byte":
                check(at[s] < len(sections[s]), "field bit %d runs out" % bit)
                record.append(sections[s][at[s]])
                at[s] += 1
            else:
                start = at[s]
                _, at[s] = read_varint(sections[s], start)
                record += sections[s][start:at[s]]
        if p & TAIL_BITS:
            length, at[27] = read_varint(sections[27], at[27])
            check(at[27] + length <= len(sections[27]), "tail runs past its section")
            record += sections[27][at[27]:at[27] + length]
            at[27] += length
        out += varint_bytes(len(record)) + record
    check(ti == len(times), "times left over")
    for s in [2, 3, 27] + [6 + b for b, k in enumerate(FIELD_KINDS) if k != "str"]:
        check(at[s] == len(sections[s]), "section %d has bytes no record reads" % s)
    check(len(out) == raw_length, "payload of %d bytes, header says %d" % (len(out), raw_length))
    return bytes(out)


def read_segment(path):
    b = open(path, "rb").read()
    check(b[:8] == b"AUDITSEG", "segment magic")
    version = struct.unpack_from("<H", b, 8)[0]
    check(version in (1, 2), "segment version %d" % version)
    offset, frames = 128, []
    while offset + 88 <= len(b) and b[offset:offset + 4] == b"AFRM":
        codec = b[offset + 5]
        stored_length, raw_length, n = struct.unpack_from("<III", b, offset + 8)
        stored = b[offset + 88:offset + 88 + stored_length]
        if codec == 0:
            payload = stored
        elif codec == 1:
            payload = lz4.block.decompress(stored, uncompressed_size=raw_length)
        else:
            check(codec == 2 and version == 2, "codec %d in a version-%d segment" % (codec, version))
            payload = column_payload(stored, n, raw_length)
        check(len(payload) == raw_length, "payload length")
        frames.append((codec, n, hashlib.sha256(payload).hexdigest()))
        offset += 88 + stored_length
    return version, frames


if __name__ == "__main__":
    for directory in sys.argv[1:]:
        for name in sorted(os.listdir(os.path.join(directory, "segments"))):
            if name.endswith(".seg"):
                version, frames = read_segment(os.path.join(directory, "segments", name))
                print(name, version, " ".join("%d:%d:%s" % f for f in frames))
