#!/usr/bin/env python3
"""Bit-flipped copies of a real broadcast, for tests/net/honesty_netns.sh.

    flipper.py GROUP PORT IFACE_ADDR SECONDS PPS SEED

Listens for a second, then for SECONDS sends, at about PPS datagrams a
second, copies of captured packets with one to three random bits flipped
(manifests first among them, since those are what could raise a false
alarm). Prints what it sent as one JSON object.
"""
import json
import random
import socket
import sys
import time


def main():
    group, port, iface, secs, pps, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    rnd = random.Random(seed)
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    rx.bind(("", port))
    rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                  socket.inet_aton(group) + socket.inet_aton(iface))
    rx.settimeout(0.2)
    captured = []
    end = time.time() + 1.0
    while time.time() < end and len(captured) < 5000:
        try:
            captured.append(rx.recv(9000))
        except socket.timeout:
            pass
    rx.close()
    ours = [p for p in captured if len(p) >= 20 and p[:2] == b"MC"]
    manifests = [p for p in ours if p[3] == 6]
    if not ours or not manifests:
        print(json.dumps({"error": "heard no manifests", "heard": len(ours)}))
        return 1
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    sent = {"flipped_manifests": 0, "flipped_other": 0}
    t0 = time.time()
    n = 0
    while time.time() - t0 < secs and n < pps * secs * 2:
        src = rnd.choice(manifests) if rnd.random() < 0.5 else rnd.choice(ours)
        p = bytearray(src)
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(4, len(p))  # the magic and version stay: it looks like ours
            p[i] ^= 1 << rnd.randrange(8)
        tx.sendto(bytes(p), (group, port))
        sent["flipped_manifests" if src[3] == 6 else "flipped_other"] += 1
        n += 1
        time.sleep(max(0.0, t0 + n / pps - time.time()))
    print(json.dumps(sent))
    return 0


sys.exit(main())
