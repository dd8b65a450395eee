#!/usr/bin/env python3
"""Extract one VRRP IP datagram from a pcap (Ethernet link type) as a hex vector.

usage: pcap2hex.py PCAP OUT.hex --pick first|prio0 --comment TEXT [--comment TEXT...]

The output keeps the whole IP datagram (header included, Ethernet header and any
padding cut by the IP length field). '#' lines carry the provenance and the
link-layer facts that the datagram itself cannot show (MAC addresses).
Standard library only, so the capture host needs nothing but python3.
"""
import argparse
import struct
import sys

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
IPPROTO_VRRP = 112
IPPROTO_AH = 51


def frames(path):
    """Yield (timestamp, frame bytes) from a classic little/big-endian pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, expected Ethernet (1)")
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off : off + 16])
        off += 16
        yield sec + frac / 1e6, data[off : off + incl]
        off += incl


def vrrp_datagram(frame):
    """Return (ip datagram, vrrp offset inside it) or None when not VRRP."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack(">H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == ETH_P_IP and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] == IPPROTO_AH and len(ip) >= ihl + 24 and ip[ihl] == IPPROTO_VRRP:
            # keepalived's auth_type AH: a 24-byte AH header precedes VRRP.
            return ip[:total], ihl + 24
        if ip[9] != IPPROTO_VRRP:
            return None
        return ip[:total], ihl
    if ethertype == ETH_P_IPV6 and len(ip) >= 40:
        plen = struct.unpack(">H", ip[4:6])[0]
        if ip[6] != IPPROTO_VRRP:
            return None
        return ip[: 40 + plen], 40
    return None


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("out")
    ap.add_argument("--pick", choices=["first", "prio0"], default="first")
    ap.add_argument("--comment", action="append", default=[])
    args = ap.parse_args()

    chosen = None
    for _ts, frame in frames(args.pcap):
        found = vrrp_datagram(frame)
        if found is None:
            continue
        dgram, voff = found
        if len(dgram) < voff + 8:
            continue
        prio = dgram[voff + 2]
        if (args.pick == "first" and prio != 0) or (args.pick == "prio0" and prio == 0):
            chosen = (frame, dgram)
            break
    if chosen is None:
        sys.exit(f"{args.pcap}: no VRRP packet matching --pick {args.pick}")
    frame, dgram = chosen
    with open(args.out, "w") as out:
        for c in args.comment:
            out.write(f"# {c}\n")
        out.write(f"# ethernet: dst {mac(frame[0:6])} src {mac(frame[6:12])}, "
                  f"frame {len(frame)} bytes as captured\n")
        for i in range(0, len(dgram), 16):
            out.write(" ".join(f"{x:02x}" for x in dgram[i : i + 16]) + "\n")


if __name__ == "__main__":
    main()
