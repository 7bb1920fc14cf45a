#!/usr/bin/python3
"""Writes the data-layer test fixtures under tests/data/fixtures/ and the reference values
that test_data.cpp compares against, computed here with numpy.

Run with Debian's Python (it has numpy):  /usr/bin/python3 tests/data/make_fixtures.py
The output is deterministic: gzip members carry no name and mtime 0, PNGs are written by hand
with zlib, JPEGs come from ImageMagick's convert with metadata stripped. Running it twice gives
the same bytes, so the committed files can be checked with `git diff --exit-code`.
"""

import gzip
import pathlib
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "fixtures"
FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")
SKLEARN = pathlib.Path("/usr/lib/python3/dist-packages/sklearn/datasets/data")
CONVERT = "/usr/bin/convert"


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def fmt(v):
    """A float as the shortest text that reads back to the same double."""
    return repr(float(v))


def write_reference(path, entries):
    """One `key v v v` line per entry: the test's reference values."""
    lines = [f"{key} " + " ".join(fmt(v) if isinstance(v, float) else str(v) for v in values)
             for key, values in entries]
    write(path, "\n".join(lines) + "\n")


# --- IDX ----------------------------------------------------------------------------------------

IDX_TYPES = {"u1": (0x08, ">u1"), "i1": (0x09, ">i1"), "i2": (0x0B, ">i2"),
             "i4": (0x0C, ">i4"), "f4": (0x0D, ">f4"), "f8": (0x0E, ">f8")}


def idx_header(code, dims):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def idx(kind, array):
    code, dtype = IDX_TYPES[kind]
    array = np.asarray(array)
    return idx_header(code, array.shape) + array.astype(dtype).tobytes()


def tiny_images():
    """6 images of 4 x 5 bytes; test_data.cpp checks pixel (i, r, c) = (43i + 11r + 3c) % 256."""
    i, r, c = np.meshgrid(np.arange(6), np.arange(4), np.arange(5), indexing="ij")
    return ((43 * i + 11 * r + 3 * c) % 256).astype(np.uint8)


TINY_LABELS = np.array([3, 1, 0, 2, 1, 3], dtype=np.uint8)


def make_idx():
    d = OUT / "idx"
    images, labels = idx("u1", tiny_images()), idx("u1", TINY_LABELS)
    write(d / "tiny-images-idx3-ubyte", images)
    write(d / "tiny-labels-idx1-ubyte", labels)

    # A folder in Fashion-MNIST's layout: train and t10k splits, gzip-compressed.
    write(d / "gz" / "train-images-idx3-ubyte.gz", gz(images))
    write(d / "gz" / "train-labels-idx1-ubyte.gz", gz(labels))
    write(d / "gz" / "t10k-images-idx3-ubyte.gz", gz(idx("u1", 255 - tiny_images()[:2])))
    write(d / "gz" / "t10k-labels-idx1-ubyte.gz", gz(idx("u1", [1, 0])))

    # Compressed images beside raw labels.
    write(d / "mixed" / "tiny-images-idx3-ubyte.gz", gz(images))
    write(d / "mixed" / "tiny-labels-idx1-ubyte", labels)

    # N x H x W x C: pixel (i, r, c, ch) = 100i + 30r + 10c + ch.
    i, r, c, ch = np.meshgrid(np.arange(2), np.arange(2), np.arange(3), np.arange(3), indexing="ij")
    write(d / "rgb-images-idx4-ubyte", idx("u1", 100 * i + 30 * r + 10 * c + ch))
    write(d / "rgb-labels-idx1-ubyte", idx("u1", [0, 1]))

    # An images file with no labels beside it.
    write(d / "orphan" / "orphan-images-idx3-ubyte", images)

    # Typed arrays, 2 x 2; values other than bytes are scaled by min and max to [0, 1], so each
    # holds lo, lo + s, lo + 2s, lo + 4s and reads back as 0, 0.25, 0.5, 1.
    t = d / "typed"
    write(t / "sbyte.idx", idx("i1", [[-8, 0], [8, 24]]))
    write(t / "short.idx", idx("i2", [[-400, 0], [400, 1200]]))
    write(t / "int.idx", idx("i4", [[-100000, 0], [100000, 300000]]))
    write(t / "float.idx", idx("f4", [[-2.5, 0.0], [2.5, 7.5]]))
    write(t / "double.idx", idx("f8", [[-0.5, 0.0], [0.5, 1.5]]))
    # Ranges that overflow their own type (max - min): scaled all the same.
    write(t / "float-extreme.idx", idx("f4", [[-3e38, -1.5e38], [0.0, 3e38]]))
    write(t / "double-extreme.idx", idx("f8", [[-1e308, -0.5e308], [0.0, 1e308]]))
    write(t / "constant.idx", idx("i4", [[7, 7], [7, 7]]))
    # Labels in wider types; 65536 and 258 catch a wrong byte order.
    write(t / "int-labels.idx", idx("i4", [0, 7, 65536, 258]))
    write(t / "float-labels.idx", idx("f4", [0.0, 2.0, 1.0]))
    write(t / "short-labels.idx", idx("i2", [2, 0, 1]))

    b = d / "broken"
    write(b / "empty-images-idx3-ubyte", b"")
    write(b / "three-bytes-images-idx3-ubyte", b"\x00\x00\x08")
    write(b / "bad-magic-images-idx3-ubyte", b"\x12\x34\x56\x78" + images[4:])
    write(b / "bad-type-images-idx3-ubyte", b"\x00\x00\x07\x03" + images[4:])
    write(b / "five-dims-images-idx3-ubyte", idx_header(0x08, [1, 1, 1, 1, 1]) + b"\x00")
    write(b / "zero-dims-images-idx3-ubyte", b"\x00\x00\x08\x00")
    write(b / "truncated-header-images-idx3-ubyte", images[:10])
    write(b / "truncated-data-images-idx3-ubyte", images[:16 + 50])
    write(b / "zero-dim-images-idx3-ubyte", idx_header(0x08, [6, 0, 5]))
    # Hostile headers: 6e14 bytes, and 2^31 doubles (16 GiB) whose count alone would pass.
    hostile = idx_header(0x08, [60000, 100000, 100000]) + bytes(64)
    write(b / "hostile-images-idx3-ubyte", hostile)
    write(b / "hostile-images-idx3-ubyte.gz", gz(hostile))
    write(b / "hostile-double.idx", idx_header(0x0E, [1 << 30, 2]) + bytes(64))
    # A header that claims 1e9 bytes (under the limit) over a file that holds 10.
    write(b / "lying-images-idx3-ubyte.gz", gz(idx_header(0x08, [100000, 100, 100]) + bytes(10)))
    # A gzip stream cut in the middle of incompressible data.
    noise = np.random.RandomState(7).randint(0, 256, size=(10, 16, 16)).astype(np.uint8)
    whole = gz(idx("u1", noise))
    write(b / "cut-images-idx3-ubyte.gz", whole[:len(whole) // 2])
    # Hostile gzip headers: an extra field longer than the file, an unknown method.
    write(b / "bad-gzip-extra-images-idx3-ubyte.gz",
          b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\x03\xff\xff" + bytes(10))
    write(b / "bad-gzip-method-images-idx3-ubyte.gz",
          b"\x1f\x8b\x07\x00\x00\x00\x00\x00\x00\x03" + bytes(20))
    write(b / "labels-2d.idx", idx("u1", [[0, 1], [1, 0], [0, 0]]))
    write(b / "labels-fraction.idx", idx("f4", [0.5, 1.0]))
    write(b / "labels-huge.idx", idx("f4", [0.0, 1e30]))
    write(b / "labels-infinite.idx", idx("f4", [0.0, float("inf")]))
    write(b / "nan-images.idx", idx("f4", [[[1.0, float("nan")]]]))
    write(b / "mismatch-images-idx3-ubyte", images)
    write(b / "mismatch-labels-idx1-ubyte", idx("u1", TINY_LABELS[:5]))
    write(b / "twochannel-images-idx4-ubyte", idx("u1", np.zeros((1, 2, 2, 2), np.uint8)))
    write(b / "twochannel-labels-idx1-ubyte", idx("u1", [0]))
    write(b / "two-labels-idx1-ubyte", idx("u1", [0, 1]))
    write(b / "big-labels.idx", idx("i4", [0, 12345]))
    write(b / "negative-labels.idx", idx("i4", [-1, 1]))


# --- CSV ----------------------------------------------------------------------------------------

def csv_reference(name, features, with_rows=True, counts=None):
    """numpy's mean, population std and standardised rows (a constant column gives zeros)."""
    x = np.asarray(features, dtype=np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / np.where(std > 1e-12, std, 1.0)
    entries = [("mean", list(map(float, mean))), ("std", list(map(float, std)))]
    if counts is not None:
        entries.append(("counts", [int(c) for c in counts]))
    rows = z if with_rows else z[:1]
    entries += [(f"z{i}", list(map(float, row))) for i, row in enumerate(rows)]
    write_reference(OUT / "csv" / "reference" / f"{name}.txt", entries)


def make_csv():
    d = OUT / "csv"
    num = [[1.5, 20, -3], [2.5, 22, -1], [3.0, 19, 0], [4.25, 25, 2], [0.5, 21, 1], [2.0, 23, -2]]
    labels = [10, 2, 7, 10, 2, 7]
    write(d / "header-numeric.csv", "length,width,height,label\n" +
          "".join(f"{a},{b},{c},{l}\n" for (a, b, c), l in zip(num, labels)))
    csv_reference("header-numeric", num)

    # The label is a middle column of text; the last column is numeric.
    text = [(1.0, "cat", 10), (2.0, "ant", 20), (3.0, "bee", 10), (4.0, "cat", 30), (5.0, "ant", 20)]
    write(d / "header-text.csv", "petal,species,sepal\n" + "".join(f"{p},{s},{q}\n" for p, s, q in text))
    csv_reference("header-text", [(p, q) for p, _, q in text])

    plain = [(0.1, 0.2, 1), (0.3, 0.4, 0), (0.5, 0.9, 1), (0.7, 0.1, 0)]
    write(d / "no-header.csv", "".join(f"{a},{b},{l}\n" for a, b, l in plain))
    csv_reference("no-header", [(a, b) for a, b, _ in plain])

    semi = [(1.5, 2, "a"), (2.5, 4, "b"), (-1.0, 3, "a")]
    write(d / "semicolon.csv", "x;y;class\n" + "".join(f"{a};{b};{c}\n" for a, b, c in semi))
    write(d / "tabs.tsv", "x\ty\tclass\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in semi))
    write(d / "bom.csv", "\ufeffx,y,class\n" + "".join(f"{a},{b},{c}\n" for a, b, c in semi))
    write(d / "crlf.csv", "x,y,class\r\n" + "".join(f"{a},{b},{c}\r\n" for a, b, c in semi))
    csv_reference("semicolon", [(a, b) for a, b, _ in semi])

    write(d / "quoted.csv",
          '"width, cm","height","kind"\n'
          '1.5,"2.0","big, red"\n'
          '2.5, 3.0 ,"say ""hi"""\n'
          '"3.5",4.0,"big, red"\n')
    csv_reference("quoted", [(1.5, 2.0), (2.5, 3.0), (3.5, 4.0)])

    # sklearn's bundled layout: count, feature count, class names; then features and target.
    sk = [(5.1, 3.5, 1.4, 0), (4.9, 3.0, 1.4, 1), (6.2, 2.9, 4.3, 1), (5.9, 3.0, 5.1, 0),
          (6.0, 2.2, 4.0, 1)]
    write(d / "sklearn.csv", "5,3,classa,classb\n" + "".join(f"{a},{b},{c},{t}\n" for a, b, c, t in sk))
    csv_reference("sklearn", [s[:3] for s in sk])

    const = [(1, 5, 0), (2, 5, 1), (4, 5, 0)]
    write(d / "constant.csv", "a,c,label\n" + "".join(f"{a},{c},{l}\n" for a, c, l in const))
    csv_reference("constant", [(a, c) for a, c, _ in const])

    b = d / "broken"
    write(b / "non-numeric.csv", "a,b,label\n1,2,0\n3,4,1\n5,abc,0\n")
    write(b / "ragged.csv", "a,b,label\n1,2,0\n3,1\n5,6,1\n")
    write(b / "long-row.csv", "a,b,label\n1,2,0\n3,4,1\n5,6,1,9\n")
    write(b / "header-mismatch.csv", "a,b\n1,2,0\n3,4,1\n")
    write(b / "empty.csv", "")
    write(b / "blank-lines.csv", "\n  \n\t\n")
    write(b / "header-only.csv", "a,b,label\n")
    write(b / "unbalanced-quote.csv", 'a,b,label\n1,"2,0\n')
    write(b / "missing-label.csv", "a,b,label\n1,2,0\n1,2,\n")
    write(b / "one-column.csv", "label\n1\n2\n")
    write(b / "binary.csv", "a,b,label\n1,\x00,0\n")
    write(b / "infinite.csv", "a,b,label\n1,inf,0\n")
    write(b / "regression.csv", "x,y\n" + "".join(f"0,{i}\n" for i in range(1001)))


def make_sklearn_reference():
    """Mean, std and class counts of sklearn's real files, read here with numpy."""
    for name in ("breast_cancer", "iris"):
        path = SKLEARN / f"{name}.csv"
        if not path.exists():
            print(f"warning: {path} missing, its reference is not rewritten", file=sys.stderr)
            continue
        data = np.loadtxt(path, delimiter=",", skiprows=1)
        target = data[:, -1].astype(int)
        csv_reference(name, data[:, :-1], with_rows=False, counts=np.bincount(target))


# --- Image folders ------------------------------------------------------------------------------

def png(pixels):
    """A PNG by hand: 8-bit grayscale (H x W) or RGB (H x W x 3), no ancillary chunks."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    color_type = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) +
            chunk(b"IEND", b""))


def jpeg(pixels):
    """A JPEG through ImageMagick from a binary PPM; no metadata, no chroma subsampling."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    ppm = f"P6 {w} {h} 255\n".encode() + pixels.tobytes()
    out = subprocess.run([CONVERT, "ppm:-", "-strip", "-quality", "95", "-sampling-factor", "1x1",
                          "jpg:-"], input=ppm, capture_output=True, check=True)
    return out.stdout


def solid(rgb, size=8):
    return np.broadcast_to(np.array(rgb, np.uint8), (size, size, 3))


def quadrants(values, size=8):
    """Grayscale, size x size, with the four values top-left, top-right, bottom-left, bottom-right."""
    half = size // 2
    img = np.empty((size, size), np.uint8)
    img[:half, :half], img[:half, half:], img[half:, :half], img[half:, half:] = values
    return img


# Per class (folders sort as blue, green, red): a.png solid RGB, b.png gray quadrants, c.jpg
# solid RGB; green also has d.PNG (solid gray 128, an upper-case extension).
IMAGE_CLASSES = {
    "red": ((220, 30, 40), (30, 80, 130, 180), (200, 50, 50)),
    "green": ((30, 200, 50), (20, 70, 120, 170), (40, 180, 60)),
    "blue": ((20, 40, 220), (10, 60, 110, 160), (30, 60, 200)),
}


def make_images():
    d = OUT / "images"
    colors = d / "colors"
    for name, (rgb, quad, jpg) in IMAGE_CLASSES.items():
        write(colors / name / "a.png", png(solid(rgb)))
        write(colors / name / "b.png", png(quadrants(quad)))
        write(colors / name / "c.jpg", jpeg(solid(jpg)))
    write(colors / "green" / "d.PNG", png(np.full((8, 8), 128, np.uint8)))
    # Strays the reader must ignore: files that are not images, a folder without images.
    write(colors / "red" / "notes.txt", "not an image\n")
    write(colors / "README.txt", "one folder per class\n")
    write(colors / "misc" / "readme.txt", "a folder without images is not a class\n")

    good = png(solid((1, 2, 3)))
    corrupt = bytearray(png(np.arange(64 * 64 * 3).reshape(64, 64, 3) % 251))
    corrupt[40:] = bytes((7 * k) % 256 for k in range(len(corrupt) - 40))  # IDAT overwritten
    write(d / "broken-png" / "cats" / "ok.png", good)
    write(d / "broken-png" / "dogs" / "corrupt.png", bytes(corrupt))
    write(d / "broken-jpg" / "cats" / "fake.jpg", "this is text, not a JPEG\n")
    write(d / "broken-jpg" / "dogs" / "ok.png", good)
    # A JPEG cut short, as a failed download leaves it: libjpeg decodes it with a warning only.
    noise = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    whole = jpeg(noise)
    write(d / "cut-jpg" / "cats" / "ok.png", good)
    write(d / "cut-jpg" / "dogs" / "cut.jpg", whole[: len(whole) * 2 // 3])
    write(d / "flat" / "a.png", good)
    write(d / "no-images" / "sub" / "readme.txt", "no images here\n")


# --- Fashion-MNIST reference --------------------------------------------------------------------

def read_idx_gz(path):
    data = gzip.decompress(path.read_bytes())
    ndims = data[3]
    dims = struct.unpack(f">{ndims}I", data[4:4 + 4 * ndims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndims).reshape(dims)


def make_fashion_reference():
    if not FASHION.exists():
        print(f"warning: {FASHION} missing, its reference is not rewritten", file=sys.stderr)
        return
    entries = []
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx_gz(FASHION / f"{prefix}-images-idx3-ubyte.gz")
        labels = read_idx_gz(FASHION / f"{prefix}-labels-idx1-ubyte.gz")
        entries += [
            (f"{split}_shape", list(images.shape)),
            (f"{split}_counts", list(np.bincount(labels, minlength=10))),
            (f"{split}_labels_head", list(labels[:20])),
            (f"{split}_image0_bytesum", [int(images[0].astype(np.int64).sum())]),
            (f"{split}_image0_row14", list(images[0, 14])),
            (f"{split}_pixel_mean", [float(images.astype(np.float64).mean() / 255.0)]),
        ]
    write_reference(OUT / "reference" / "fashion-mnist.txt", entries)


def main():
    # Start clean so that a renamed fixture leaves no stale file behind. The references of real
    # data stay when that data is missing here.
    for stale in (OUT / "idx", OUT / "images", OUT / "csv" / "broken"):
        if stale.exists():
            shutil.rmtree(stale)
    make_idx()
    make_csv()
    make_sklearn_reference()
    make_images()
    make_fashion_reference()


if __name__ == "__main__":
    main()
