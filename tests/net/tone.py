"""Checks that a recording holds the test tone (mcshare --audio tone, or
the tests' own 440 Hz file): 440 Hz at -12 dBFS, with no silence longer
than one 10 ms frame once it has started. The marker clicks (1 kHz) do
not move the medians.
  tone.py NAME FILE [MIN_SECONDS [MAX_QUIET]]
FILE: a WAV file, or raw 48 kHz stereo 16-bit (SDL's disk driver).
MAX_QUIET: the longest quiet run allowed, in samples (default 480)."""
import math, struct, sys, wave

name, path = sys.argv[1], sys.argv[2]
min_s = float(sys.argv[3]) if len(sys.argv) > 3 else 3
max_quiet = int(sys.argv[4]) if len(sys.argv) > 4 else 480
if path.endswith(".wav"):
    w = wave.open(path)
    if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (48000, 2, 2):
        print(f"{name}: {path} is not 48 kHz stereo 16-bit", file=sys.stderr); sys.exit(1)
    raw = w.readframes(w.getnframes())
else:
    raw = open(path, "rb").read()
n = len(raw) // 4
left = struct.unpack("<%dh" % (2 * n), raw[:4 * n])[0::2]
start = next((i for i, v in enumerate(left) if abs(v) > 1000), None)
if start is None:
    print(f"{name}: only silence in {path}", file=sys.stderr); sys.exit(1)
x = left[start + 2400:]                      # skip the codec's first 50 ms
# frequency: the median over 100 ms windows
hzs = sorted(sum(1 for a, b in zip(x[i:i + 4800], x[i + 1:i + 4800]) if a < 0 <= b) * 10
             for i in range(0, len(x) - 4800, 4800))
hz = hzs[len(hzs) // 2] if hzs else 0
# level: the median of 10 ms RMS values
rms = sorted(math.sqrt(sum(v * v for v in x[i:i + 480]) / 480) / 32767
             for i in range(0, len(x) - 480, 480))
level = rms[len(rms) // 2] if rms else 0
run = gap = 0
for v in x:
    run = run + 1 if abs(v) < 300 else 0
    gap = max(gap, run)
print(f"{name}: {len(x) / 48000:.1f} s of sound: {hz:.1f} Hz, level {level:.3f} "
      f"(expected 0.177), longest quiet run {gap} samples (at most {max_quiet})", file=sys.stderr)
ok = len(x) > min_s * 48000 and abs(hz - 440) < 5 and abs(level - 0.177) < 0.03 and gap <= max_quiet
sys.exit(0 if ok else 1)
