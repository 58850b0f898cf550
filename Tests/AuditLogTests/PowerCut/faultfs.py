#!/usr/bin/env python3
"""A file system that forgets what was not synced: a FUSE passthrough over a backing
directory (libfuse3 through PyPI's mfusepy) that, when it is unmounted, puts the backing
directory back in the state a power cut at that moment would leave.

    faultfs.py BACKING MOUNTPOINT REPORT [--seed N] [--partial P]

While mounted, every operation passes through to BACKING at once, so the process above sees
an ordinary file system. Beside it, faultfs keeps what is *durable*:

- a file's content as of the last fsync/fdatasync of that file (any descriptor: the inode's
  pages, as Linux does); a file created since has durable content "empty";
- a directory's names (name -> file or directory) as of the last fsync of that directory; a
  create, rename, unlink, mkdir or rmdir is durable only when its directory is synced, and a
  new directory's own names only when it is.

Everything written since the last sync of a file is kept as a list of writes and truncates.
When the file system is unmounted (`fusermount3 -u MOUNTPOINT`: the power cut), BACKING is
rebuilt from the durable state alone: names that were never made durable vanish (or come
back, for a rename or unlink whose directory was not synced), unsynced writes are lost. With
probability P (--partial, default 0.5) a file with unsynced writes keeps some of them, as
a disk that wrote some dirty pages before the power went: a prefix of them with the last torn
at a random byte, a random subset in order (writes reordered), or the file's final size with
the unsynced bytes as zeros (a size updated before its data). The REPORT file gets a JSON
summary: files and names dropped, writes lost, torn, reordered, zero-filled.

Single-threaded (every operation in order); meant for tests, not speed.
"""

import errno
import json
import os
import random
import shutil
import sys

import mfusepy as fuse

ROOT = 0


class FaultFS(fuse.Operations):
    use_ns = True

    def __init__(self, backing, seed, partial):
        self.backing = os.path.realpath(backing)
        self.random = random.Random(seed)
        self.partial = partial
        self.next_id = 1
        self.ids = {"/": ROOT}  # live path -> node id
        self.kind = {ROOT: "d"}  # node id -> "f" or "d"
        self.durable_names = {}  # directory id -> {name: node id}
        self.durable_data = {}  # file id -> bytes
        self.pending = {}  # file id -> [("w", offset, bytes) | ("t", length)]
        self.handles = {}  # fh -> file id
        self.stats = {"fsyncs": 0, "dir_fsyncs": 0, "writes": 0}
        self._snapshot("/")

    # The state at mount is durable: it is what the previous power cut left.
    def _snapshot(self, path):
        node = self.ids[path]
        names = {}
        for name in sorted(os.listdir(self._real(path))):
            child = os.path.join(path, name)
            real = self._real(child)
            ident = self._new(child, "d" if os.path.isdir(real) and not os.path.islink(real) else "f")
            names[name] = ident
            if self.kind[ident] == "d":
                self._snapshot(child)
            else:
                with open(real, "rb") as f:
                    self.durable_data[ident] = f.read()
        self.durable_names[node] = names

    def _new(self, path, kind):
        ident = self.next_id
        self.next_id += 1
        self.ids[path] = ident
        self.kind[ident] = kind
        return ident

    def _real(self, path):
        return self.backing + path

    def _id(self, path):
        try:
            return self.ids[path]
        except KeyError:
            raise fuse.FuseOSError(errno.ENOENT)

    # Metadata.
    def getattr(self, path, fh=None):
        st = os.lstat(self._real(path)) if fh is None else os.fstat(fh)
        keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")
        out = {k: getattr(st, k) for k in keys}
        for k in ("st_atime", "st_ctime", "st_mtime"):
            out[k] = getattr(st, k + "_ns")
        return out

    def access(self, path, amode):
        if not os.access(self._real(path), amode):
            raise fuse.FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        os.chmod(self._real(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._real(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._real(path), ns=times)

    def statfs(self, path):
        st = os.statvfs(self._real(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._real(path))

    def readlink(self, path):
        raise fuse.FuseOSError(errno.EINVAL)

    # Names: applied at once, durable only with the directory's fsync.
    def mkdir(self, path, mode):
        os.mkdir(self._real(path), mode)
        ident = self._new(path, "d")
        self.durable_names[ident] = {}

    def rmdir(self, path):
        os.rmdir(self._real(path))
        self.ids.pop(path, None)

    def unlink(self, path):
        os.unlink(self._real(path))
        self.ids.pop(path, None)

    def rename(self, old, new):
        os.rename(self._real(old), self._real(new))
        moved = {p: i for p, i in self.ids.items() if p == old or p.startswith(old + "/")}
        for p in moved:
            del self.ids[p]
        for p in [p for p in self.ids if p == new or p.startswith(new + "/")]:
            del self.ids[p]  # what the rename replaced
        for p, i in moved.items():
            self.ids[new + p[len(old):]] = i

    def link(self, target, source):
        os.link(self._real(source), self._real(target))
        self.ids[target] = self._id(source)

    def symlink(self, target, source):
        raise fuse.FuseOSError(errno.EPERM)

    def mknod(self, path, mode, dev):
        raise fuse.FuseOSError(errno.EPERM)

    # Files.
    def create(self, path, mode, fi=None):
        fd = os.open(self._real(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.close(fd)
        ident = self._new(path, "f")
        self.durable_data[ident] = b""
        self.pending[ident] = []
        return self._open(path, os.O_RDWR)

    def open(self, path, flags):
        return self._open(path, flags & ~(os.O_CREAT | os.O_EXCL | os.O_TRUNC))

    def _open(self, path, flags):
        ident = self._id(path)
        accmode = flags & os.O_ACCMODE
        fd = os.open(self._real(path), (os.O_RDWR if accmode != os.O_RDONLY else os.O_RDONLY) | (flags & os.O_APPEND))
        self.handles[fd] = ident
        return fd

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        data = bytes(data)
        written = os.pwrite(fh, data, offset)
        self.pending.setdefault(self.handles[fh], []).append(("w", offset, data[:written]))
        self.stats["writes"] += 1
        return written

    def truncate(self, path, length, fh=None):
        if fh is None:
            os.truncate(self._real(path), length)
            ident = self._id(path)
        else:
            os.ftruncate(fh, length)
            ident = self.handles[fh]
        self.pending.setdefault(ident, []).append(("t", length))

    def fallocate(self, path, mode, offset, size, fh):
        raise fuse.FuseOSError(errno.EOPNOTSUPP)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        self.handles.pop(fh, None)
        os.close(fh)
        return 0

    def fsync(self, path, datasync, fh):
        os.fsync(fh)
        ident = self.handles[fh]
        os.lseek(fh, 0, os.SEEK_SET)
        self.durable_data[ident] = self._read_all(fh)
        self.pending[ident] = []
        self.stats["fsyncs"] += 1
        return 0

    def _read_all(self, fd):
        size = os.fstat(fd).st_size
        chunks, at = [], 0
        while at < size:
            chunk = os.pread(fd, min(1 << 20, size - at), at)
            if not chunk:
                break
            chunks.append(chunk)
            at += len(chunk)
        return b"".join(chunks)

    def opendir(self, path):
        return 0

    def releasedir(self, path, fh):
        return 0

    def fsyncdir(self, path, datasync, fh):
        ident = self._id(path)
        names = {}
        for name in os.listdir(self._real(path)):
            child = self.ids.get(path.rstrip("/") + "/" + name)
            if child is not None:
                names[name] = child
        self.durable_names[ident] = names
        self.stats["dir_fsyncs"] += 1
        return 0

    # The power cut.
    def cut(self, target):
        """Writes the durable state (plus what the disk happened to write) under `target`."""
        report = dict(self.stats, files=0, dirs=0, lost_names=0, files_with_lost_writes=0, lost_writes=0, torn=0, reordered=0, zero_filled=0)
        live = set(self.ids.values())
        durable_ids = set()

        def build(node, real):
            for name, child in sorted(self.durable_names.get(node, {}).items()):
                durable_ids.add(child)
                path = os.path.join(real, name)
                if self.kind[child] == "d":
                    os.mkdir(path)
                    report["dirs"] += 1
                    build(child, path)
                else:
                    with open(path, "wb") as f:
                        f.write(self._after_cut(child, report))
                    report["files"] += 1

        build(ROOT, target)
        report["lost_names"] = len(live - durable_ids - {ROOT})
        return report

    def _after_cut(self, ident, report):
        content = bytearray(self.durable_data.get(ident, b""))
        ops = self.pending.get(ident, [])
        if not ops:
            return bytes(content)
        report["files_with_lost_writes"] += 1
        if self.random.random() >= self.partial:
            report["lost_writes"] += len(ops)
            return bytes(content)
        mode = self.random.choice(["prefix", "reorder", "zeros"])
        if mode == "prefix":
            keep = self.random.randint(0, len(ops))
            for i, op in enumerate(ops[:keep]):
                if i == keep - 1 and op[0] == "w" and len(op[2]) > 1:
                    cut = self.random.randint(1, len(op[2]) - 1)
                    op = ("w", op[1], op[2][:cut])
                    report["torn"] += 1
                apply(content, op)
            report["lost_writes"] += len(ops) - keep
        elif mode == "reorder":
            kept = [op for op in ops if self.random.random() < 0.5]
            for op in kept:
                apply(content, op)
            if 0 < len(kept) < len(ops):
                report["reordered"] += 1
            report["lost_writes"] += len(ops) - len(kept)
        else:
            final = bytearray(content)
            for op in ops:
                apply(final, op)
            if len(final) > len(content):
                content.extend(b"\0" * (len(final) - len(content)))
                report["zero_filled"] += 1
            else:
                del content[len(final):]
            report["lost_writes"] += len(ops)
        return bytes(content)


def apply(content, op):
    if op[0] == "w":
        _, offset, data = op
        if len(content) < offset:
            content.extend(b"\0" * (offset - len(content)))
        content[offset:offset + len(data)] = data
    else:
        length = op[1]
        if len(content) > length:
            del content[length:]
        else:
            content.extend(b"\0" * (length - len(content)))


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    backing, mountpoint, report_path = args[:3]
    options = dict(zip(args[3::2], args[4::2]))
    seed = int(options.get("--seed", "1"))
    partial = float(options.get("--partial", "0.5"))
    fs = FaultFS(backing, seed, partial)
    # Write-through (no kernel write-back cache), so every write reaches faultfs in order.
    fuse.FUSE(fs, mountpoint, foreground=True, nothreads=True, default_permissions=True)
    # Unmounted: the power is gone. Rebuild the backing directory from what was durable.
    staging = fs.backing + ".cut"
    shutil.rmtree(staging, ignore_errors=True)
    os.mkdir(staging)
    report = fs.cut(staging)
    old = fs.backing + ".old"
    shutil.rmtree(old, ignore_errors=True)
    os.rename(fs.backing, old)
    os.rename(staging, fs.backing)
    shutil.rmtree(old)
    with open(report_path, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main()
