#!/usr/bin/env python3
"""Converts a binary PPM (P6) screenshot to PNG with the standard library only.

    tools/ppm_to_png.py target/ab-editor.ppm [OUT.png]
"""
import struct
import sys
import zlib


def main() -> None:
    src = sys.argv[1]
    dst = sys.argv[2] if len(sys.argv) > 2 else src.rsplit(".", 1)[0] + ".png"
    data = open(src, "rb").read()
    magic, size, maxval, pixels = data.split(b"\n", 3)
    if magic != b"P6" or maxval != b"255":
        sys.exit(f"{src}: not an 8-bit binary PPM")
    w, h = map(int, size.split())
    rows = b"".join(b"\x00" + pixels[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows, 6))
           + chunk(b"IEND", b""))
    open(dst, "wb").write(png)
    print(dst)


if __name__ == "__main__":
    main()
