#!/usr/bin/env python3
"""Forged datagrams from an on-path attacker, for tests/net/relay_netns.sh.

    spoof.py SRC_IP SRC_PORT DST_IP DST_PORT COUNT SEED

Sends COUNT UDP datagrams whose source is SRC_IP:SRC_PORT (the relay's
address, spoofed with a raw socket): mcshare-looking packets of every type
with random contents, under made-up sessions. None is signed by the
teacher. Prints how many it sent.
"""
import random
import socket
import struct
import sys


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    src, sport, dst, dport, count, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for i in range(count):
        ptype = rnd.randint(1, 8)
        session = rnd.getrandbits(32)
        body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 900)))
        payload = b"MC\x02" + bytes([ptype]) + struct.pack(">IIQ", session, i, 0) + body
        ulen = 8 + len(payload)
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ulen)
        udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
        udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, i & 0xFFFF, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        s.sendto(ip + udp, (dst, 0))
        sent += 1
    print(sent)


main()
