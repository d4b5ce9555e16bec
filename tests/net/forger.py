#!/usr/bin/env python3
"""A malicious student for tests/net/forge_netns.sh.

    forger.py GROUP PORT IFACE_ADDR SECONDS PPS SEED

Listens to the broadcast for a second, then for SECONDS sends, at about PPS
datagrams per second, a seeded mix of: replays of captured packets, video
packets with the right session id and another picture, fake BYEs, fake
ANNOUNCEs with another geometry, manifests listing the forged packets (with
the teacher's public key and a signature that cannot be right), and
garbage with the right magic. Prints what it sent as one JSON object.
"""
import hashlib
import json
import random
import socket
import struct
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
    end = time.time() + 1.5
    while time.time() < end and len(captured) < 5000:
        try:
            captured.append(rx.recv(9000))
        except socket.timeout:
            pass
    rx.close()
    ours = [p for p in captured if len(p) >= 20 and p[:3] == b"MC\x02"]
    if not ours:
        print(json.dumps({"error": "heard nothing"}))
        return 1
    session = ours[-1][4:8]
    by_type = {}
    for p in ours:
        by_type.setdefault(p[3], []).append(p)
    seq = max(struct.unpack(">I", p[8:12])[0] for p in ours if p[3] != 5) + 1
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(iface))
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    sent = {"replay": 0, "forged_video": 0, "fake_bye": 0, "fake_announce": 0,
            "forged_manifest": 0, "garbage": 0}
    forged_hashes = []
    t0 = time.time()
    n = 0
    while True:
        now = time.time()
        if now - t0 >= secs or n >= pps * secs * 2:
            break
        # Pace: n datagrams by now.
        ahead = n - (now - t0) * pps
        if ahead > 0:
            time.sleep(ahead / pps)
        n += 1
        kind = rnd.random()
        pkt = None
        if kind < 0.30:
            pkt = rnd.choice(ours)
            sent["replay"] += 1
        elif kind < 0.70 and 2 in by_type:
            # Another picture under the teacher's session id and a fresh seq.
            p = bytearray(rnd.choice(by_type[2]))
            p[4:8] = session
            p[8:12] = struct.pack(">I", seq & 0xFFFFFFFF)
            seq += 1
            for i in range(46, len(p)):
                p[i] = rnd.randrange(256)
            pkt = bytes(p)
            forged_hashes.append(hashlib.blake2b(pkt, digest_size=8).digest())
            sent["forged_video"] += 1
        elif kind < 0.75:
            pkt = b"MC\x02\x03" + session + struct.pack(">IQ", seq & 0xFFFFFFFF, 0)
            seq += 1
            sent["fake_bye"] += 1
        elif kind < 0.80 and 1 in by_type:
            p = bytearray(rnd.choice(by_type[1]))
            p[8:12] = struct.pack(">I", seq & 0xFFFFFFFF)
            seq += 1
            p[20:22] = struct.pack(">H", 320)  # another width
            pkt = bytes(p)
            sent["fake_announce"] += 1
        elif kind < 0.90 and 6 in by_type and forged_hashes:
            # The teacher's key, the forged packets' hashes, a made-up signature.
            m = bytearray(rnd.choice(by_type[6])[:64])
            m[8:12] = struct.pack(">I", rnd.randrange(1 << 32))
            hashes = forged_hashes[-20:]
            m[22:24] = struct.pack(">H", len(hashes))
            pkt = bytes(m) + b"".join(hashes) + bytes(rnd.randrange(256) for _ in range(64))
            sent["forged_manifest"] += 1
        else:
            size = rnd.randrange(20, 1400)
            pkt = b"MC\x02" + bytes([rnd.randrange(1, 9)]) + session + \
                bytes(rnd.randrange(256) for _ in range(size - 8))
            sent["garbage"] += 1
        tx.sendto(pkt, (group, port))
    sent["seconds"] = round(time.time() - t0, 2)
    sent["captured"] = len(ours)
    print(json.dumps(sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
