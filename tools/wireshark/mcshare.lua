-- Wireshark/tshark dissector for the mcshare multicast stream (wire
-- version 2, docs/protocol.md): ANNOUNCE, VIDEO, BYE, PARITY, AUDIO, MANIFEST,
-- SEALED and MOVE packets. Version 1 packets are shown as such, not dissected.
--   wireshark -X lua_script:tools/wireshark/mcshare.lua
--   tshark -X lua_script:tools/wireshark/mcshare.lua -Y mcshare -r capture.pcap
-- Registered on UDP port 5004 (Edit > Preferences > Protocols > MCSHARE to
-- change it) and as a heuristic on any UDP port ("MC", version 2).
-- The control channel runs inside ENet and is not dissected here.

local p = Proto("mcshare", "mcshare screen broadcast")
local types = { [1] = "ANNOUNCE", [2] = "VIDEO", [3] = "BYE", [4] = "PARITY", [5] = "AUDIO", [6] = "MANIFEST", [7] = "SEALED", [8] = "MOVE" }
local subsamp = { [0] = "4:4:4", [1] = "4:2:0" }
local codecs = { [1] = "JPEG", [2] = "lossless" }
local HASH = 8

local f = {
  magic = ProtoField.uint16("mcshare.magic", "Magic", base.HEX),
  version = ProtoField.uint8("mcshare.version", "Version"),
  type = ProtoField.uint8("mcshare.type", "Type", base.DEC, types),
  session = ProtoField.uint32("mcshare.session", "Session", base.HEX),
  seq = ProtoField.uint32("mcshare.seq", "Sequence number"),
  ts = ProtoField.uint64("mcshare.ts_us", "Sender timestamp (us)"),
  -- announce
  width = ProtoField.uint16("mcshare.width", "Width"),
  height = ProtoField.uint16("mcshare.height", "Height"),
  tile = ProtoField.uint16("mcshare.tile", "Tile edge"),
  cols = ProtoField.uint16("mcshare.cols", "Columns"),
  rows = ProtoField.uint16("mcshare.rows", "Rows"),
  fps = ProtoField.uint16("mcshare.fps", "Frames per second"),
  refresh = ProtoField.uint16("mcshare.refresh_ms", "Refresh period (ms)"),
  max_tile = ProtoField.uint32("mcshare.max_tile_bytes", "Largest tile (bytes)"),
  aframe = ProtoField.uint32("mcshare.announce_frame", "Newest frame"),
  ctrl_port = ProtoField.uint16("mcshare.ctrl_port", "Control port"),
  mtu = ProtoField.uint16("mcshare.mtu", "Longest datagram"),
  flags = ProtoField.uint16("mcshare.flags", "Flags", base.HEX),
  ncodecs = ProtoField.uint8("mcshare.ncodecs", "Codecs"),
  codec_id = ProtoField.uint8("mcshare.codec_params_id", "Codec", base.DEC, codecs),
  params_len = ProtoField.uint8("mcshare.params_len", "Parameter bytes"),
  params = ProtoField.bytes("mcshare.params", "Parameters"),
  quality = ProtoField.uint8("mcshare.quality", "JPEG quality"),
  subsamp = ProtoField.uint8("mcshare.subsamp", "Subsampling", base.DEC, subsamp),
  -- video
  frame = ProtoField.uint32("mcshare.frame", "Frame"),
  tversion = ProtoField.uint32("mcshare.tile_version", "Tile version"),
  tile_index = ProtoField.uint16("mcshare.tile_index", "Tile"),
  frame_tiles = ProtoField.uint16("mcshare.frame_tiles", "Tiles in frame"),
  frag = ProtoField.uint16("mcshare.frag", "Fragment"),
  frag_count = ProtoField.uint16("mcshare.frag_count", "Fragments"),
  tile_bytes = ProtoField.uint32("mcshare.tile_bytes", "Tile bytes"),
  offset = ProtoField.uint32("mcshare.offset", "Offset"),
  vcount = ProtoField.uint8("mcshare.fragments", "Fragments in datagram"),
  reclen = ProtoField.uint16("mcshare.fragment_len", "Fragment length"),
  codec = ProtoField.uint8("mcshare.codec", "Codec", base.DEC, codecs),
  vflags = ProtoField.uint8("mcshare.video_flags", "Flags", base.HEX),
  data = ProtoField.bytes("mcshare.data", "Coded tile data (this fragment)"),
  -- move
  dx = ProtoField.int16("mcshare.dx", "Shift x (source - destination)"),
  dy = ProtoField.int16("mcshare.dy", "Shift y"),
  ndst = ProtoField.uint16("mcshare.ndst", "Moved tiles"),
  nsrc = ProtoField.uint16("mcshare.nsrc", "Source tiles"),
  dst = ProtoField.uint16("mcshare.move_dst", "Moved tile"),
  src = ProtoField.uint16("mcshare.move_src", "Source tile"),
  srcv = ProtoField.uint32("mcshare.move_src_version", "Source version"),
  -- parity
  first_seq = ProtoField.uint32("mcshare.first_seq", "Block's first sequence number"),
  pframe = ProtoField.uint32("mcshare.parity_frame", "Frame"),
  k = ProtoField.uint8("mcshare.k", "Data packets (k)"),
  pp = ProtoField.uint8("mcshare.p", "Parity packets (p)"),
  index = ProtoField.uint8("mcshare.parity_index", "Parity index"),
  sym_len = ProtoField.uint16("mcshare.sym_len", "Symbol length"),
  symbol = ProtoField.bytes("mcshare.symbol", "Parity symbol"),
  -- audio
  channels = ProtoField.uint8("mcshare.channels", "Channels"),
  acount = ProtoField.uint8("mcshare.audio_count", "Opus frames in packet"),
  frame_samples = ProtoField.uint16("mcshare.frame_samples", "Samples per frame"),
  rate = ProtoField.uint32("mcshare.rate", "Sample rate"),
  opus_len = ProtoField.uint16("mcshare.opus_len", "Opus frame length"),
  opus = ProtoField.bytes("mcshare.opus", "Opus frame"),
  -- manifest
  alg = ProtoField.uint8("mcshare.alg", "Signature algorithm", base.DEC, { [2] = "Ed25519, BLAKE2b-64 hashes, each listed twice" }),
  mflags = ProtoField.uint8("mcshare.manifest_flags", "Flags", base.HEX),
  hcount = ProtoField.uint16("mcshare.hash_count", "Packets vouched for"),
  pubkey = ProtoField.bytes("mcshare.pubkey", "Sender public key"),
  wall = ProtoField.uint64("mcshare.wall_us", "Sender wall clock (us since 1970)"),
  phash = ProtoField.bytes("mcshare.packet_hash", "Packet hash"),
  sig = ProtoField.bytes("mcshare.signature", "Signature"),
  -- sealed
  nonce = ProtoField.bytes("mcshare.nonce", "Nonce"),
  box = ProtoField.bytes("mcshare.sealed_box", "Encrypted packet + tag"),
}
p.fields = f

local e_short = ProtoExpert.new("mcshare.short", "Packet shorter than its header", expert.group.MALFORMED, expert.severity.ERROR)
local e_field = ProtoExpert.new("mcshare.field", "Field out of range", expert.group.MALFORMED, expert.severity.WARN)
p.experts = { e_short, e_field }

local function announce(buf, t)
  if buf:len() < 50 then t:add_proto_expert_info(e_short); return end
  t:add(f.width, buf(20, 2)); t:add(f.height, buf(22, 2)); t:add(f.tile, buf(24, 2))
  t:add(f.cols, buf(26, 2)); t:add(f.rows, buf(28, 2)); t:add(f.fps, buf(30, 2))
  t:add(f.refresh, buf(32, 2)); t:add(f.max_tile, buf(34, 4)); t:add(f.aframe, buf(38, 4))
  t:add(f.ctrl_port, buf(42, 2)); t:add(f.mtu, buf(44, 2)); t:add(f.flags, buf(46, 2))
  t:add(f.ncodecs, buf(48, 1))
  local off, names = 50, {}
  for _ = 1, buf(48, 1):uint() do
    if off + 2 > buf:len() then t:add_proto_expert_info(e_short); return end
    local id, len = buf(off, 1):uint(), buf(off + 1, 1):uint()
    if off + 2 + len > buf:len() then t:add_proto_expert_info(e_short); return end
    local ct = t:add(f.codec_id, buf(off, 1))
    ct:add(f.params_len, buf(off + 1, 1))
    if len > 0 then ct:add(f.params, buf(off + 2, len)) end
    if id == 1 and len >= 2 then
      ct:add(f.subsamp, buf(off + 2, 1)); ct:add(f.quality, buf(off + 3, 1))
    end
    names[#names + 1] = codecs[id] or tostring(id)
    off = off + 2 + len
  end
  if off ~= buf:len() then t:add_proto_expert_info(e_field) end
  return string.format("%dx%d, tile %d, %d fps, codecs %s", buf(20, 2):uint(), buf(22, 2):uint(),
    buf(24, 2):uint(), buf(30, 2):uint(), table.concat(names, "+"))
end

local function video(buf, t)
  if buf:len() < 28 + 22 + 1 then t:add_proto_expert_info(e_short); return end
  t:add(f.frame, buf(20, 4)); t:add(f.frame_tiles, buf(24, 2)); t:add(f.vcount, buf(26, 1))
  local off, n, first = 28, buf(26, 1):uint(), nil
  for i = 1, n do
    if off + 22 > buf:len() then t:add_proto_expert_info(e_short); return end
    local len = buf(off + 20, 2):uint()
    if off + 22 + len > buf:len() then t:add_proto_expert_info(e_short); return end
    local r = t:add(f.tile_index, buf(off + 4, 2))
    r:add(f.tversion, buf(off, 4)); r:add(f.frag, buf(off + 6, 2)); r:add(f.frag_count, buf(off + 8, 2))
    r:add(f.tile_bytes, buf(off + 10, 4)); r:add(f.offset, buf(off + 14, 4)); r:add(f.codec, buf(off + 18, 1))
    r:add(f.vflags, buf(off + 19, 1)); r:add(f.reclen, buf(off + 20, 2)); r:add(f.data, buf(off + 22, len))
    if buf(off + 6, 2):uint() >= buf(off + 8, 2):uint() then t:add_proto_expert_info(e_field) end
    first = first or string.format("tile %d v%d %s frag %d/%d", buf(off + 4, 2):uint(), buf(off, 4):uint(),
      codecs[buf(off + 18, 1):uint()] or "?", buf(off + 6, 2):uint() + 1, buf(off + 8, 2):uint())
    off = off + 22 + len
  end
  if off ~= buf:len() then t:add_proto_expert_info(e_field) end
  return string.format("frame %d, %d fragment(s): %s%s", buf(20, 4):uint(), n, first or "",
    n > 1 and ", ..." or "")
end

local function move(buf, t)
  if buf:len() < 40 then t:add_proto_expert_info(e_short); return end
  t:add(f.frame, buf(20, 4)); t:add(f.tversion, buf(24, 4)); t:add(f.dx, buf(28, 2))
  t:add(f.dy, buf(30, 2)); t:add(f.frame_tiles, buf(32, 2)); t:add(f.ndst, buf(34, 2))
  t:add(f.nsrc, buf(36, 2))
  local nd, ns = buf(34, 2):uint(), buf(36, 2):uint()
  if buf:len() ~= 40 + 2 * nd + 6 * ns then t:add_proto_expert_info(e_short); return end
  for i = 0, nd - 1 do t:add(f.dst, buf(40 + 2 * i, 2)) end
  for i = 0, ns - 1 do
    local st = t:add(f.src, buf(40 + 2 * nd + 6 * i, 2))
    st:add(f.srcv, buf(42 + 2 * nd + 6 * i, 4))
  end
  return string.format("frame %d: %d tiles v%d from (%+d, %+d), %d sources", buf(20, 4):uint(), nd,
    buf(24, 4):uint(), buf(28, 2):int(), buf(30, 2):int(), ns)
end

local function parity(buf, t)
  if buf:len() < 37 then t:add_proto_expert_info(e_short); return end
  t:add(f.first_seq, buf(20, 4)); t:add(f.pframe, buf(24, 4)); t:add(f.k, buf(28, 1))
  t:add(f.pp, buf(29, 1)); t:add(f.index, buf(30, 1)); t:add(f.sym_len, buf(32, 2))
  t:add(f.symbol, buf(36))
  return string.format("block at seq %d, k=%d, parity %d/%d", buf(20, 4):uint(), buf(28, 1):uint(),
    buf(30, 1):uint() + 1, buf(29, 1):uint())
end

local function audio(buf, t)
  if buf:len() < 28 then t:add_proto_expert_info(e_short); return end
  t:add(f.channels, buf(20, 1)); t:add(f.acount, buf(21, 1))
  t:add(f.frame_samples, buf(22, 2)); t:add(f.rate, buf(24, 4))
  local off, n = 28, buf(21, 1):uint()
  for i = 0, n - 1 do
    if off + 2 > buf:len() then t:add_proto_expert_info(e_short); return end
    local len = buf(off, 2):uint()
    if off + 2 + len > buf:len() then t:add_proto_expert_info(e_short); return end
    local st = t:add(f.opus, buf(off + 2, len))
    st:prepend_text(i == 0 and "[newest] " or string.format("[seq - %d, repeated] ", i))
    st:add(f.opus_len, buf(off, 2))
    off = off + 2 + len
  end
  return string.format("%d frame(s) of %.1f ms, %d ch", n, buf(22, 2):uint() / 48, buf(20, 1):uint())
end

local function manifest(buf, t)
  if buf:len() < 64 + HASH + 64 then t:add_proto_expert_info(e_short); return end
  local n = buf(22, 2):uint()
  t:add(f.alg, buf(20, 1)); t:add(f.mflags, buf(21, 1)); t:add(f.hcount, buf(22, 2))
  t:add(f.pubkey, buf(24, 32)); t:add(f.wall, buf(56, 8))
  if buf:len() ~= 64 + HASH * n + 64 then t:add_proto_expert_info(e_short); return end
  for i = 0, n - 1 do t:add(f.phash, buf(64 + HASH * i, HASH)) end
  t:add(f.sig, buf(64 + HASH * n, 64))
  return string.format("%d packet hashes, key %s...", n, tostring(buf(24, 4):bytes()))
end

function p.dissector(buf, pinfo, tree)
  if buf:len() < 20 or buf(0, 2):uint() ~= 0x4D43 then return 0 end
  if buf(2, 1):uint() ~= 2 then
    pinfo.cols.protocol = "MCSHARE"
    local t = tree:add(p, buf(), "mcshare")
    t:add(f.magic, buf(0, 2)); t:add(f.version, buf(2, 1))
    pinfo.cols.info = string.format("mcshare wire version %d (this dissector reads version 2)", buf(2, 1):uint())
    return buf:len()
  end
  pinfo.cols.protocol = "MCSHARE"
  local t = tree:add(p, buf(), "mcshare")
  t:add(f.magic, buf(0, 2)); t:add(f.version, buf(2, 1)); t:add(f.type, buf(3, 1))
  t:add(f.session, buf(4, 4)); t:add(f.seq, buf(8, 4)); t:add(f.ts, buf(12, 8))
  local ty = buf(3, 1):uint()
  local info
  if ty == 1 then info = announce(buf, t)
  elseif ty == 2 then info = video(buf, t)
  elseif ty == 4 then info = parity(buf, t)
  elseif ty == 5 then info = audio(buf, t)
  elseif ty == 6 then info = manifest(buf, t)
  elseif ty == 8 then info = move(buf, t)
  elseif ty == 7 then
    if buf:len() < 60 then t:add_proto_expert_info(e_short)
    else
      t:add(f.nonce, buf(20, 24)); t:add(f.box, buf(44))
      info = string.format("%d encrypted bytes (class passphrase)", buf:len() - 60)
    end
  elseif ty == 3 then info = "the broadcast ended"
  else t:add_proto_expert_info(e_field) end
  pinfo.cols.info = string.format("%s session %08x seq %d%s", types[ty] or "?", buf(4, 4):uint(),
    buf(8, 4):uint(), info and (": " .. info) or "")
  return buf:len()
end

local function heuristic(buf, pinfo, tree)
  if buf:len() < 20 or buf(0, 2):uint() ~= 0x4D43 or buf(2, 1):uint() ~= 2 then return false end
  local ty = buf(3, 1):uint()
  if ty < 1 or ty > 8 then return false end
  p.dissector(buf, pinfo, tree)
  return true
end

p.prefs.port = Pref.uint("UDP port", 5004, "UDP port of the mcshare stream")
local current = 5004
DissectorTable.get("udp.port"):add(current, p)
function p.prefs_changed()
  DissectorTable.get("udp.port"):remove(current, p)
  current = p.prefs.port
  DissectorTable.get("udp.port"):add(current, p)
end
p:register_heuristic("udp", heuristic)
