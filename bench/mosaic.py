#!/usr/bin/env python3
"""mosaic.py SRC NX NY OUT: a VRT repeating the raster SRC NX x NY times on SRC's grid extended
(the same tile side by side; nodata values kept). Large test pairs from a small one, with no
pixels copied: bench/large_pair.sh and tests/e2e/test_memory.sh use it."""
import json
import subprocess
import sys


def main() -> None:
    src, nx, ny, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    info = json.loads(subprocess.check_output(["gdalinfo", "-json", src]))
    w, h = info["size"]
    wkt = info["coordinateSystem"]["wkt"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    bands = ""
    for b, band in enumerate(info["bands"], 1):
        nodata = f'<NoDataValue>{band["noDataValue"]}</NoDataValue>' if "noDataValue" in band else ""
        sources = "".join(
            f'<SimpleSource><SourceFilename relativeToVRT="0">{src}</SourceFilename><SourceBand>{b}</SourceBand>'
            f'<SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
            f'<DstRect xOff="{i * w}" yOff="{j * h}" xSize="{w}" ySize="{h}"/></SimpleSource>'
            for j in range(ny)
            for i in range(nx)
        )
        bands += f'<VRTRasterBand dataType="{band["type"]}" band="{b}">{nodata}{sources}</VRTRasterBand>'
    gt = ", ".join(map(str, info["geoTransform"]))
    with open(out, "w") as f:
        f.write(
            f'<VRTDataset rasterXSize="{w * nx}" rasterYSize="{h * ny}"><SRS>{wkt}</SRS>'
            f"<GeoTransform>{gt}</GeoTransform>{bands}</VRTDataset>"
        )


if __name__ == "__main__":
    main()
