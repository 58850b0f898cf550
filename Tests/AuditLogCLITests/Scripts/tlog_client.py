"""An independent C2SP tlog-tiles client: follows an auditlog server as a witness would.

Usage: tlog_client.py BASE_URL VERIFIER_KEY [TOKEN]

Fetches /tlog/checkpoint, checks its Ed25519 signature (golang.org/x/mod/sumdb/note layout),
fetches every hash tile of levels 0 and 1 and every entry bundle the checkpoint covers,
recomputes the RFC 6962 root from the leaf hashes and compares it with the signed root,
checks each level-1 hash against the level-0 tile under it and each entry against its leaf
hash. Prints "ok <size>" or fails with an assertion naming what does not match.
"""
import base64, hashlib, sys, urllib.request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

base, vkey = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else None


def get(path, auth=False):
    req = urllib.request.Request(base + path)
    if auth and token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return r.read()


def tile_path(level, n, width):
    digits = "%d" % n
    groups = []
    while True:
        groups.insert(0, "%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    name = "/".join(("x" + g) if i < len(groups) - 1 else g for i, g in enumerate(groups))
    return "/tlog/tile/%s/%s%s" % (level, name, "" if width == 256 else ".p/%d" % width)


def mth(hashes):
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:])).digest()


note = get("/tlog/checkpoint").decode()
text, sigs = note.rsplit("\n\n", 1)
text += "\n"
origin, size, root = text.split("\n")[:3]
size = int(size)
root = base64.b64decode(root)
name, kid, key = vkey.split("+", 2)
pub = base64.b64decode(key)[1:]
assert hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4].hex() == kid
ok = False
for line in sigs.strip("\n").split("\n"):
    assert line.startswith("\u2014 ")
    signer, sig = line[2:].split(" ")
    sig = base64.b64decode(sig)
    if signer == name and sig[:4].hex() == kid:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig[4:], text.encode())
        ok = True
assert ok, "no signature by the verifier key"

leaves = []
for n in range((size + 255) // 256):
    width = min(256, size - n * 256)
    tile = get(tile_path(0, n, width))
    assert len(tile) == 32 * width, ("tile 0", n, len(tile))
    hashes = [tile[i:i + 32] for i in range(0, len(tile), 32)]
    bundle = get(tile_path("entries", n, width), auth=True)
    i, k = 0, 0
    while i < len(bundle):
        length = int.from_bytes(bundle[i:i + 2], "big")
        entry = bundle[i + 2:i + 2 + length]
        assert int.from_bytes(entry[:8], "little") == n * 256 + k + 1, "entry seq"
        assert hashlib.sha256(b"\x00" + entry).digest() == hashes[k], ("entry", n * 256 + k)
        i += 2 + length
        k += 1
    assert k == width, ("entries in bundle", n, k)
    leaves += hashes
assert mth(leaves) == root, "the root of the leaf tiles is not the signed root"

full = size // 256
if full:
    level1 = []
    for n in range((full + 255) // 256):
        width = min(256, full - n * 256)
        tile = get(tile_path(1, n, width))
        level1 += [tile[i:i + 32] for i in range(0, len(tile), 32)]
    for j, h in enumerate(level1):
        assert h == mth(leaves[j * 256:(j + 1) * 256]), ("level 1 node", j)
print("ok", size)
