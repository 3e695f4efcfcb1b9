#!/usr/bin/python3
"""plain_numpy.py BEFORE AFTER OUT_MASK: the plain way to find change, as a peer for sitediff.

Warp the after image onto the before grid (GDAL, cubic; pairs without georeferencing share one
grid), find the global shift by phase correlation (numpy FFT, parabolic sub-pixel peak) and
apply it (Fourier shift), z-score each band, take the change-vector magnitude, Otsu's threshold,
a 3 x 3 opening and a minimum size of 10 pixels (scipy.ndimage). Writes a uint8 mask (1 change) on
the before grid. Needs Debian's python3-numpy, python3-gdal and python3-scipy (run with
/usr/bin/python3)."""
import sys

import numpy as np
from osgeo import gdal
from scipy import ndimage

gdal.UseExceptions()


def read(path, like=None):
    ds = gdal.Open(path)
    if like is not None and ds.GetGeoTransform(can_return_null=True) and like.GetGeoTransform(can_return_null=True):
        gt = like.GetGeoTransform()
        w, h = like.RasterXSize, like.RasterYSize
        ds = gdal.Warp("", ds, format="MEM", dstSRS=like.GetProjection() or None, resampleAlg="cubic",
                       outputBounds=(gt[0], gt[3] + gt[5] * h, gt[0] + gt[1] * w, gt[3]), width=w, height=h)
    a = ds.ReadAsArray().astype(np.float64)
    return (a if a.ndim == 3 else a[None]), ds


def phase_shift(a, b):
    fa, fb = np.fft.fft2(a - a.mean()), np.fft.fft2(b - b.mean())
    r = fb * np.conj(fa)
    r /= np.abs(r) + 1e-12
    c = np.real(np.fft.ifft2(r))
    iy, ix = np.unravel_index(np.argmax(c), c.shape)
    h, w = c.shape

    def sub(cm, c0, cp):
        d = cm - 2 * c0 + cp
        return 0.5 * (cm - cp) / d if d != 0 else 0.0

    dy = iy + sub(c[iy - 1, ix], c[iy, ix], c[(iy + 1) % h, ix])
    dx = ix + sub(c[iy, ix - 1], c[iy, ix], c[iy, (ix + 1) % w])
    return (dx - w if dx > w / 2 else dx), (dy - h if dy > h / 2 else dy)


def fourier_shift(img, dx, dy):
    h, w = img.shape
    ky, kx = np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]
    return np.real(np.fft.ifft2(np.fft.fft2(img) * np.exp(2j * np.pi * (kx * dx + ky * dy))))


def otsu(v):
    hist, edges = np.histogram(v, bins=256)
    p = hist / hist.sum()
    mids = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(p)
    m0 = np.cumsum(p * mids)
    between = (m0[-1] * w0 - m0) ** 2 / np.maximum(w0 * (1 - w0), 1e-12)
    return mids[np.argmax(between)]


def main(before, after, out):
    b, bds = read(before)
    a, _ = read(after, like=bds)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    valid = np.all(np.isfinite(a) & np.isfinite(b), axis=0)
    a[:, ~valid] = 0
    b[:, ~valid] = 0
    dx, dy = phase_shift(b.mean(axis=0), a.mean(axis=0))
    # a feature at x in before sits at x + dx in after: sample after at x + dx
    a = np.stack([fourier_shift(x, dx, dy) for x in a])
    zb = np.stack([(x - x[valid].mean()) / (x[valid].std() + 1e-9) for x in b])
    za = np.stack([(x - x[valid].mean()) / (x[valid].std() + 1e-9) for x in a])
    mag = np.sqrt(((za - zb) ** 2).sum(axis=0))
    m = (mag > otsu(mag[valid])) & valid
    m = ndimage.binary_opening(m, structure=np.ones((3, 3)))
    lab, k = ndimage.label(m, structure=np.ones((3, 3)))
    if k:
        sizes = ndimage.sum(m, lab, range(1, k + 1))
        m = np.isin(lab, 1 + np.flatnonzero(sizes >= 10))
    drv = gdal.GetDriverByName("GTiff")
    o = drv.Create(out, bds.RasterXSize, bds.RasterYSize, 1, gdal.GDT_Byte, ["COMPRESS=DEFLATE"])
    if bds.GetGeoTransform(can_return_null=True):
        o.SetGeoTransform(bds.GetGeoTransform())
        o.SetProjection(bds.GetProjection())
    o.GetRasterBand(1).WriteArray(m.astype(np.uint8))
    o = None
    print(f"shift ({dx:.3f}, {dy:.3f}), {int(m.sum())} changed pixels")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
