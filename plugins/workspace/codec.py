"""Per-entry compression: zstandard (default), lz4 (fast) or none.

An entry is compressed only if a sample of it shrinks to at most `min_ratio` of
its size; otherwise it is stored raw, so incompressible blobs cost no CPU twice.
"""

from __future__ import annotations

import threading

import lz4.frame
import zstandard

CODECS = ("zstd", "lz4", "none")
SAMPLE = 64 * 1024
_local = threading.local()


class Codec:
    def __init__(self, default: str = "zstd", zstd_level: int = 3, min_ratio: float = 0.9) -> None:
        if default not in CODECS:
            raise ValueError(f"unknown codec {default!r}; choose one of {', '.join(CODECS)}")
        self.default = default
        self.level = zstd_level
        self.min_ratio = min_ratio
        self._local = threading.local()

    def _zc(self) -> zstandard.ZstdCompressor:
        zc = getattr(self._local, "zc", None)
        if zc is None:
            zc = self._local.zc = zstandard.ZstdCompressor(level=self.level)
        return zc

    def _compress(self, codec: str, data: bytes) -> bytes:
        if codec == "zstd":
            return self._zc().compress(data)
        if codec == "lz4":
            return lz4.frame.compress(data)
        return data

    def encode(self, data: bytes, codec: str | None = None) -> tuple[str, bytes]:
        """(codec used, stored bytes) for `data`."""
        codec = codec or self.default
        if codec == "none" or len(data) < 64:
            return "none", data
        if len(data) > 2 * SAMPLE:
            sample = data[:SAMPLE]
            if len(self._compress(codec, sample)) > self.min_ratio * len(sample):
                return "none", data
        out = self._compress(codec, data)
        if len(out) > self.min_ratio * len(data):
            return "none", data
        return codec, out

    @staticmethod
    def decode(codec: str, stored: bytes) -> bytes:
        if codec == "zstd":
            zd = getattr(_local, "zd", None)
            if zd is None:
                zd = _local.zd = zstandard.ZstdDecompressor()
            return zd.decompress(stored)
        if codec == "lz4":
            return bytes(lz4.frame.decompress(stored))
        if codec == "none":
            return stored
        raise ValueError(f"unknown codec {codec!r}")
