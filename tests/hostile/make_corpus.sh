#!/usr/bin/env bash
# make_corpus.sh SITEDIFF DIR: writes the hostile-input corpus into DIR (made at test time, so no
# binaries live in git) and prints its table of cases on stdout, one per line:
#   name|before|after|extra options|exit code|message pattern (ERE without '|'; empty: any)|outputs (yes/no)
# Paths in the table are relative to DIR. Needs gdal-bin (gdal_translate, gdal_calc.py) and python3.
set -eu
SD=$(realpath "$1") D=$2
mkdir -p "$D"
cd "$D"
"$SD" synth p --size 128 --seed 3 >/dev/null 2>&1
B=p/before.tif A=p/after.tif
q() { gdal_translate -q "$@"; }

# Files that are not images.
: >empty.tif
head -c 5000 /dev/urandom >random.tif
head -c 3000 "$A" >truncated.tif
mkdir -p folder.tif
# A real TIFF header declaring 200000 x 200000 pixels (one strip at an offset past the end).
python3 - <<'PY'
import struct
tags = [(256, 4, 1, 200000), (257, 4, 1, 200000), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, 4096), (277, 3, 1, 1), (278, 4, 1, 200000), (279, 4, 1, 4000000000)]
ifd = struct.pack('<H', len(tags)) + b''.join(
    struct.pack('<HHII', t, ty, n, v) if ty == 4 else struct.pack('<HHIHH', t, ty, n, v, 0) for t, ty, n, v in tags)
open('huge_header.tif', 'wb').write(b'II*\x00' + struct.pack('<I', 8) + ifd + struct.pack('<I', 0))
PY
printf '<VRTDataset rasterXSize="200000" rasterYSize="200000"><VRTRasterBand dataType="Byte" band="1"/></VRTDataset>' >huge.vrt
# Damaged image data behind an intact header, in DEFLATE TIFFs of 32 x 32 tiles (GDAL decodes
# several tiles at once on its own threads there): the last quarter cut off, or the middle tile's
# bytes (found through TileOffsets and TileByteCounts) overwritten.
for s in b a; do
  src=$B; [ $s = a ] && src=$A
  q -co TILED=YES -co BLOCKXSIZE=32 -co BLOCKYSIZE=32 -co COMPRESS=DEFLATE "$src" tiled_$s.tif
  head -c $(($(stat -c %s tiled_$s.tif) * 3 / 4)) tiled_$s.tif >cut_$s.tif
  cp tiled_$s.tif corrupt_$s.tif
  python3 - corrupt_$s.tif <<'PY'
import struct, sys
path = sys.argv[1]
d = bytearray(open(path, 'rb').read())
assert d[:4] == b'II*\x00', 'a little-endian classic TIFF'
ifd = struct.unpack_from('<I', d, 4)[0]
tags = {}
for i in range(struct.unpack_from('<H', d, ifd)[0]):
    tag, typ, n, val = struct.unpack_from('<HHII', d, ifd + 2 + 12 * i)
    tags[tag] = (typ, n, val)
def values(tag):
    typ, n, val = tags[tag]
    f = {3: 'H', 4: 'I'}[typ]
    raw = struct.pack('<I', val) if n * struct.calcsize(f) <= 4 else d[val:]
    return struct.unpack_from('<%d%s' % (n, f), raw)
(w,), (h,), (tw,), (th,) = values(256)[:1], values(257)[:1], values(322)[:1], values(323)[:1]
nx, ny = -(-w // tw), -(-h // th)
k = (ny // 2) * nx + nx // 2
off, size = values(324)[k], values(325)[k]
d[off:off + size] = b'\xff' * size
open(path, 'wb').write(d)
PY
done
# Headers within --max-pixels whose blocks would need more memory than the default budget (3/4 of
# the RAM): memory grows with the width (a block holds at least 8 rows of both images, about
# 2,700 bytes per column with the detection window), so a grid twice the budget wide and 64 rows
# high. On a machine so large that this passes --max-pixels, that limit refuses it instead.
ram_kb=$(awk '/MemTotal/{print $2}' /proc/meminfo)
big_w=$(python3 -c "print(int($ram_kb * 1024 * 0.75 * 2 / 2700) + 1)")
big_h=64
printf '<VRTDataset rasterXSize="%d" rasterYSize="%d"><VRTRasterBand dataType="UInt16" band="1"/></VRTDataset>' "$big_w" "$big_h" >big_b.vrt
cp big_b.vrt big_a.vrt
if [ $((big_w * big_h)) -le 2000000000 ]; then big_msg="needs about .* of memory, more than 3/4 of this machine's RAM.*raise --max-memory"
else big_msg="more than --max-pixels"; fi
# Images that are images, but hostile.
q -a_ullr 700000 5700000 700064 5699936 "$A" far.tif                      # 100 km away
GDAL_PAM_ENABLED=NO q -co PROFILE=BASELINE "$B" plain_before.tif           # no georeferencing
GDAL_PAM_ENABLED=NO q -co PROFILE=BASELINE "$A" plain_after.tif
q -srcwin 10 10 1 1 "$B" one_b.tif                                        # 1 x 1
q -srcwin 10 10 1 1 "$B" one_a.tif
q -b 1 -b 2 -b 3 "$A" bands3.tif                                          # 4 bands against 3
q -scale 0 65535 1000 1000 "$B" const_b.tif                               # constant
q -scale 0 65535 1000 1000 "$A" const_a.tif
q -scale 0 65535 7 7 -a_nodata 7 "$A" allnodata.tif                       # every pixel nodata
# Float32 whose every pixel is NaN (gdal_calc.py comes with gdal-bin).
gdal_calc.py --quiet -A "$A" --allBands A --outfile allnan.tif --calc "A*0+nan" --type Float32 --hideNoData
# Manifests.
long=$(printf 'x%.0s' $(seq 1 5000))
{
  echo 'site,before,after'
  echo '"a ""quoted"", site",p/before.tif,p/after.tif'
  echo '../../escape,p/before.tif,p/after.tif'
  echo "long,$long/before.tif,p/after.tif"
  echo 'unterminated,"p/before.tif,p/after.tif'
} >hostile.csv
: >afile

# The table. Whole runs of hostile images: complete outputs where the input is processable.
cat <<TABLE
missing file|missing.tif|$A||1|before: missing.tif: No such file|no
empty file|$B|empty.tif||1|after: empty.tif: file is empty|no
random bytes|$B|random.tif||1|after: random.tif: not a readable raster|no
truncated TIFF|$B|truncated.tif||1|truncated.tif: truncated or corrupt file: .*failed: TIFFFillTile:Read error.* got [0-9]+ bytes, expected [0-9]+|no
cut tile data, before, 1 thread|cut_b.tif|$A|--threads 1|1|reader: cut_b.tif: truncated or corrupt file: .*failed: TIFFFillTile:Read error.* got [0-9]+ bytes, expected [0-9]+|no
cut tile data, before, 2 threads|cut_b.tif|$A|--threads 2|1|reader: cut_b.tif: truncated or corrupt file: .*failed: Cannot read [0-9]+ bytes at offset [0-9]+|no
cut tile data, after, 1 thread|$B|cut_a.tif|--threads 1|1|reader: cut_a.tif: truncated or corrupt file: .*failed: TIFFFillTile:Read error.* got [0-9]+ bytes, expected [0-9]+|no
cut tile data, after, 2 threads|$B|cut_a.tif|--threads 2|1|reader: cut_a.tif: truncated or corrupt file: .*failed: Cannot read [0-9]+ bytes at offset [0-9]+|no
corrupt middle tile, before, 1 thread|corrupt_b.tif|$A|--threads 1|1|reader: corrupt_b.tif: truncated or corrupt file: .*failed: ZIPDecode:Decoding error|no
corrupt middle tile, before, 2 threads|corrupt_b.tif|$A|--threads 2|1|reader: corrupt_b.tif: truncated or corrupt file: .*failed: ZIPDecode:Decoding error|no
corrupt middle tile, after, 1 thread|$B|corrupt_a.tif|--threads 1|1|reader: corrupt_a.tif: truncated or corrupt file: .*failed: ZIPDecode:Decoding error|no
corrupt middle tile, after, 2 threads|$B|corrupt_a.tif|--threads 2|1|reader: corrupt_a.tif: truncated or corrupt file: .*failed: ZIPDecode:Decoding error|no
folder as file|folder.tif|$A||1|before: folder.tif: is a folder|no
200000 x 200000 TIFF header|huge_header.tif|$A||1|huge_header.tif: 200000 x 200000 pixels is more than --max-pixels.*raise --max-pixels|no
200000 x 200000 VRT|$B|huge.vrt||1|huge.vrt: 200000 x 200000 pixels is more than --max-pixels.*raise --max-pixels|no
no overlap|$B|far.tif||1|do not overlap|no
one georeferenced, one not|$B|plain_after.tif||1|is georeferenced but plain_after.tif is not|no
neither georeferenced|plain_before.tif|plain_after.tif||0|neither image is georeferenced|yes
1 x 1 images|one_b.tif|one_a.tif||1|share only 1 x 1 pixels|no
band counts differ|$B|bands3.tif||0|band counts differ.*first 3 bands|yes
constant images|const_b.tif|const_a.tif||0||yes
all nodata|$B|allnodata.tif||1|allnodata.tif have almost no valid pixels in common|no
all NaN|$B|allnan.tif||1|allnan.tif have almost no valid pixels in common|no
output is a file|$B|$A|-o afile|1|afile: exists and is not a folder|no
output not writable|$B|$A|-o /proc/sitediff-out|1|/proc/sitediff-out.*cannot create folder|no
--max-pixels too small|$B|$A|--max-pixels 100|1|more than --max-pixels 100.*raise --max-pixels|no
grid beyond the memory budget|big_b.vrt|big_a.vrt||1|$big_msg|no
--max-memory too small|$B|$A|--max-memory 0.001|1|needs about .* MiB of memory, more than --max-memory 1.0 MiB.*raise --max-memory|no
bad --max-memory|$B|$A|--max-memory -1|2|--max-memory: '-1'|no
bad --threads|$B|$A|--threads abc|2|--threads: 'abc'|no
bad --grid|$B|$A|--grid sideways|2|--grid: 'sideways'|no
bad --min-area|$B|$A|--min-area -5|2|--min-area: '-5'|no
bad --tolerance|$B|$A|--tolerance 9|2|tolerance|no
bad --bands|$B|$A|--bands red,purple|2|'purple' is not blue, green, red, nir or other|no
unknown option|$B|$A|--bogus|2|unknown option --bogus|no
TABLE
