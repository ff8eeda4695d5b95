"""Recordings an attacker would upload: tiny files that claim hours of sound, and files that
make FFmpeg open sockets. Built byte by byte here (no encoder would write them), at any
size up to the service's ``MAX_AUDIO_BYTES``.
"""

import struct
from pathlib import Path

#: Largest FLAC block: one constant subframe of two bytes stands for 65,535 samples.
FLAC_BLOCK = 65_535


def flac_bomb(size: int, rate: int = 8_000) -> bytes:
    """A valid FLAC of constant frames filling ``size`` bytes: about 4,700 samples per byte
    (a 10.5 KB file holds 760 frames, 6,226 s at 8 kHz)."""
    out = bytearray(b"fLaC" + _streaminfo(rate))
    number = 0
    while True:
        frame = _constant_frame(number, value=1_000)
        if len(out) + len(frame) > size:
            return bytes(out)
        out += frame
        number += 1


def wav_bomb(size: int, rate: int = 1) -> bytes:
    """A WAV of ``size`` bytes declaring a ``rate`` Hz sample rate: 8 KB at 1 Hz is 4,000 s of
    16-bit samples, each resampled to 16,000 (the old decoder peaked at ~1.7 GB)."""
    data = struct.pack("<h", 1_000) * ((size - 44) // 2)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return header + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack(
        "<I", len(data)
    ) + data  # fmt: skip


def sdp_file(port: int) -> bytes:
    """An SDP session description: FFmpeg's probe opens its RTP demuxer, which binds UDP
    ``port`` (RTP) and ``port + 1`` (RTCP) and waits for packets."""
    return (
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\n"
    ).encode()


def bound_udp_ports() -> set[int]:
    """Local UDP ports with a socket bound on this machine (IPv4 and IPv6)."""
    ports: set[int] = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        ports |= {int(line.split()[1].rsplit(":", 1)[1], 16) for line in lines if line.strip()}
    return ports


def _streaminfo(rate: int) -> bytes:
    body = struct.pack(">HH", FLAC_BLOCK, FLAC_BLOCK) + b"\x00" * 6  # frame sizes unknown
    # 20 bits rate, 3 bits channels - 1 (mono), 5 bits bits per sample - 1 (16), 36 bits
    # total samples (0: unknown), then the MD5 (zeros: unchecked).
    packed = (rate << 44) | (0 << 41) | (15 << 36)
    body += packed.to_bytes(8, "big") + b"\x00" * 16
    return bytes([0x80]) + len(body).to_bytes(3, "big") + body  # last metadata block


def _constant_frame(number: int, value: int) -> bytes:
    header = bytearray(b"\xff\xf8")  # sync, fixed block size
    header.append(0x70)  # block size: 16 bits at the end of the header; rate from STREAMINFO
    header.append(0x08)  # mono, 16 bits per sample
    header += _utf8_number(number)
    header += struct.pack(">H", FLAC_BLOCK - 1)
    header.append(_crc8(header))
    frame = header + b"\x00" + struct.pack(">h", value)  # CONSTANT subframe
    return bytes(frame + struct.pack(">H", _crc16(frame)))


def _utf8_number(number: int) -> bytes:
    """FLAC's frame numbers are coded like UTF-8 (surrogates included)."""
    if number < 0x80:
        return bytes([number])
    length = 2 if number < 0x800 else 3 if number < 0x10000 else 4 if number < 0x200000 else 5
    first_bits = 7 - length
    tail = [0x80 | ((number >> (6 * i)) & 0x3F) for i in reversed(range(length - 1))]
    lead = (0xFF << (8 - length)) & 0xFF | (number >> (6 * (length - 1))) & ((1 << first_bits) - 1)
    return bytes([lead, *tail])


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc
