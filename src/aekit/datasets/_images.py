"""Folders of images: every image read by its real bit depth and colour model, or refused with one line.

Read right: 1-bit, 8-bit and 16-bit grayscale (16-bit divided by 65535, not clipped), palette, RGB,
CMYK and other colour models (as RGB), EXIF rotation, the first frame of an animation. Refused
unless told what to do: images of different sizes (``image_size`` resizes them all), transparency
that matters (``color_mode="RGBA"`` keeps it as a channel, ``"RGB"``/``"L"`` drops it), files that
are not images (``skip_bad_files`` skips them and counts them). Sub-folders become labels.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from aekit.errors import DataError

#: what counts as an image file: the formats Pillow reads, plus common ones it does not (those are
#: then refused by name, or skipped with skip_bad_files, never silently left out)
IMAGE_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".pgm",
    ".ppm",
    ".pbm",
    ".pnm",
    ".tga",
    ".heic",
    ".heif",
    ".avif",
    ".jp2",
    ".jfif",
}
COLOR_MODES = ("L", "RGB", "RGBA")
_GRAY_MODES = {"1", "L", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
#: the manifest that marks a run folder (kept by aekit.run_folder); images below it are not data
RUN_MANIFEST = ".aekit-files.json"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_files(folder: Path) -> list[Path]:
    """The image files below ``folder``, sorted, without hidden files (``.DS_Store``, ``._name.png``) and
    without aekit's own run folders kept inside it (their plots are not data)."""
    return [folder / name for name in image_names(folder)]


def image_names(folder) -> list[str]:
    """:func:`image_files` as names relative to ``folder`` (POSIX), in the same order.

    The walk visits each directory's entries sorted by name, which is the order of sorting the
    paths by their parts; symbolic links to folders are not followed and a folder holding
    ``.aekit-files.json`` (a run folder) is left out with everything below it.
    """
    return list(iter_image_names(folder))


def iter_image_names(folder):
    """:func:`image_names` one at a time: a folder of a million images is walked without a list of them."""

    def walk(directory: str, prefix: str):
        files, folders = [], []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.name == RUN_MANIFEST:
                        return
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir():
                            if not entry.is_symlink():
                                folders.append(entry.name)
                        elif os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES and entry.is_file():
                            files.append(entry.name)
                    except OSError:
                        continue
        except (PermissionError, FileNotFoundError, NotADirectoryError):
            return
        folder_set = set(folders)
        for name in sorted(files + folders):
            if name in folder_set:
                yield from walk(os.path.join(directory, name), f"{prefix}{name}/")
            else:
                yield prefix + name

    return walk(os.fspath(folder), "")


def read_image_folder(folder: Path, image_size=None, color_mode=None, skip_bad_files=False):
    """``(x, labels or None, image_shape, skipped files)`` of the images below ``folder``."""
    if color_mode is not None and color_mode not in COLOR_MODES:
        raise DataError(f"color mode {color_mode!r} is not supported; use one of {', '.join(COLOR_MODES)}")
    files = image_files(folder)
    if not files:
        raise DataError(f"{folder}: holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    images, kept, skipped = [], [], []
    for file in files:
        try:
            images.append(read_image(file, image_size))
            kept.append(file)
        except DataError:
            if not skip_bad_files:
                raise
            skipped.append(file)
    if not images:
        raise DataError(f"{folder}: none of its {len(files)} image files could be read")
    if image_size is None:
        reference = images[0].shape[:2]
        for file, image in zip(kept, images):
            if image.shape[:2] != reference:
                raise DataError(
                    f"{folder}: images differ in size ({kept[0].name} is {reference[0]}x{reference[1]}, "
                    f"{file.name} is {image.shape[0]}x{image.shape[1]}); pass --image-size H,W "
                    "(image_size=(H, W)) to resize them all"
                )
    mode = color_mode or _common_mode(kept, images)
    x = np.stack([_to_mode(file, image, mode) for file, image in zip(kept, images)])
    classes = sorted({f.parent.relative_to(folder).as_posix() for f in kept})
    y = None
    if len(classes) > 1:
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[f.parent.relative_to(folder).as_posix()] for f in kept], dtype=np.int64)
    return x, y, tuple(x.shape[1:]), skipped


def read_image(file: Path, image_size=None) -> np.ndarray:
    """One image as float32 ``(H, W, channels)`` in [0, 1], channels 1 (gray), 2 (gray+alpha), 3 or 4 (RGBA)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _refuse_wide_color_png(file)
    try:
        with Image.open(file) as im:
            im.seek(0)
            im = ImageOps.exif_transpose(im)
            im.load()
            channels = _channels(file, im)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"{file}: not a readable image ({exc.__class__.__name__}); remove it, or pass --skip-bad-files "
            "to skip unreadable images"
        ) from None
    if image_size is not None:
        height, width = image_size
        channels = [np.asarray(Image.fromarray(c, mode="F").resize((width, height), Image.BILINEAR)) for c in channels]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


def _refuse_wide_color_png(file: Path) -> None:
    """Pillow reads 16-bit colour PNGs as 8-bit: refuse them rather than lose their depth unsaid."""
    if file.suffix.lower() != ".png":
        return
    try:
        with open(file, "rb") as f:
            head = f.read(26)
    except OSError:
        return
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[24] == 16 and head[25] in (2, 6):  # IHDR: depth, colour type
        raise DataError(
            f"{file}: a 16-bit colour PNG, which would be read as 8-bit; save it with 8 bits per "
            "channel (or as 16-bit grayscale)"
        )


def _channels(file: Path, im) -> list[np.ndarray]:
    """The image's channels as float32 arrays in [0, 1], by the image's real depth and colour model."""
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return [np.asarray(im, dtype=np.float32) / 65535.0]
    if mode == "I":  # 32-bit integers: 16-bit PNGs on some Pillow versions
        values = np.asarray(im, dtype=np.int64)
        if values.min() < 0 or values.max() > 65535:
            raise DataError(
                f"{file}: 32-bit integer pixels range {values.min()}..{values.max()}; save it as 8- or 16-bit"
            )
        return [(values / 65535.0).astype(np.float32)]
    if mode == "F":
        values = np.asarray(im, dtype=np.float32)
        if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
            raise DataError(f"{file}: floating-point pixels outside [0, 1]; save it as 8- or 16-bit")
        return [values]
    if mode == "1":
        im = im.convert("L")
        mode = "L"
    if mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...
        mode = "RGB"
    array = np.asarray(im, dtype=np.float32) / 255.0
    return [array] if array.ndim == 2 else [array[..., c] for c in range(array.shape[-1])]


def _common_mode(files, images) -> str:
    gray = all(image.shape[-1] in (1, 2) for image in images)
    for file, image in zip(files, images):
        if image.shape[-1] in (2, 4) and image[..., -1].min() < 1.0:
            raise DataError(
                f"{file}: has transparent pixels; pass --color-mode RGBA to keep transparency as a "
                "channel, or --color-mode RGB (or L) to drop it"
            )
    return "L" if gray else "RGB"


def _to_mode(file, image: np.ndarray, mode: str) -> np.ndarray:
    """``image`` with the channels of ``mode``: L (1), RGB (3) or RGBA (4)."""
    channels = image.shape[-1]
    color = image[..., :1] if channels in (1, 2) else image[..., :3]
    alpha = image[..., -1:] if channels in (2, 4) else np.ones_like(image[..., :1])
    if mode == "L":
        if color.shape[-1] == 3:  # ITU-R 601 luma, as Pillow's convert("L")
            color = color @ np.array([0.299, 0.587, 0.114], dtype=np.float32)[:, None]
        return color
    rgb = np.repeat(color, 3, axis=-1) if color.shape[-1] == 1 else color
    return rgb if mode == "RGB" else np.concatenate([rgb, alpha], axis=-1)


# ---------------------------------------------------------------- streaming: headers first, pixels when needed


def image_header(file) -> tuple[int, int, int, bool]:
    """``(height, width, channels, simple)`` of an image as :func:`read_image` would read it, from its header.

    Reads a few hundred bytes, not the pixels: a PNG's chunk headers up to its first image data, or
    what Pillow reads when it opens a file (size, mode, EXIF rotation). ``channels`` counts what
    :func:`read_image` returns (1 gray, 2 gray and alpha, 3 colour, 4 with alpha); ``simple`` marks
    an 8-bit gray or RGB PNG without metadata, which :func:`read_pixels` decodes on a short path.
    A file that is no image raises the same :class:`DataError` as :func:`read_image`.
    """
    png = _png_header(file)
    if png is not None:
        return png
    from PIL import Image, UnidentifiedImageError

    _refuse_wide_color_png(Path(file))
    try:
        with Image.open(file) as im:
            width, height = im.size
            mode, info = im.mode, im.info
            orientation = im.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _unreadable(file, exc) from None
    if orientation in (5, 6, 7, 8):  # EXIF rotation by a quarter turn: read_image swaps the sides
        width, height = height, width
    return height, width, _mode_channels(mode, info), False


def read_pixels(file, image_size, simple: bool) -> np.ndarray:
    """One image as :func:`read_image` reads it (float32 ``(H, W, channels)``), on a short path for ``simple`` files."""
    if not simple or image_size is not None:
        return read_image(Path(file), image_size)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as im:
            im.load()
            array = np.asarray(im, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _unreadable(file, exc) from None
    return array[..., None] if array.ndim == 2 else array


def read_pixels_8bit(file) -> np.ndarray:
    """A simple PNG (8-bit gray or RGB, see :func:`image_header`) as uint8 ``(H, W, channels)``: read_image's
    values times 255, so a batch is scaled once."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as im:
            im.load()
            array = np.asarray(im)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _unreadable(file, exc) from None
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise DataError(
            f"{file}: holds {array.dtype} pixels now, not the 8-bit ones its header announced "
            "(it changed after training started)"
        )
    return array[..., None] if array.ndim == 2 else array


def has_transparency(image: np.ndarray) -> bool:
    """Whether a read image has an alpha channel with any pixel not fully opaque."""
    return image.shape[-1] in (2, 4) and image[..., -1].min() < 1.0


def common_mode(gray: bool) -> str:
    return "L" if gray else "RGB"


def transparency_error(file) -> DataError:
    return DataError(
        f"{file}: has transparent pixels; pass --color-mode RGBA to keep transparency as a "
        "channel, or --color-mode RGB (or L) to drop it"
    )


def size_error(folder, first, first_shape, file, shape) -> DataError:
    return DataError(
        f"{folder}: images differ in size ({Path(first).name} is {first_shape[0]}x{first_shape[1]}, "
        f"{Path(file).name} is {shape[0]}x{shape[1]}); pass --image-size H,W "
        "(image_size=(H, W)) to resize them all"
    )


def _unreadable(file, exc) -> DataError:
    return DataError(
        f"{file}: not a readable image ({exc.__class__.__name__}); remove it, or pass --skip-bad-files "
        "to skip unreadable images"
    )


def _mode_channels(mode: str, info) -> int:
    """Channels :func:`_channels` makes of a Pillow mode."""
    if mode == "P":
        return 4 if "transparency" in info else 3
    if mode in _GRAY_MODES:
        return 1
    return {"LA": 2, "RGB": 3, "RGBA": 4}.get(mode, 3)


_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
_PNG_METADATA = {b"eXIf", b"tEXt", b"zTXt", b"iTXt"}


def _png_header(file):
    """A PNG's header from its chunks up to the first IDAT, or None when Pillow should look (not a PNG,
    metadata that may rotate it, anything unusual)."""
    try:
        with open(file, "rb") as f:
            head = f.read(33)
            if len(head) < 33 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
                return None
            width, height = struct.unpack(">II", head[16:24])
            depth, color = head[24], head[25]
            if depth == 16 and color in (2, 6):
                _refuse_wide_color_png(Path(file))
            transparent = False
            position = 33
            for _ in range(64):
                f.seek(position)
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                length, kind = struct.unpack(">I", chunk[:4])[0], chunk[4:]
                if kind == b"IDAT":
                    break
                if kind in _PNG_METADATA:
                    return None
                transparent |= kind == b"tRNS"
                position += 12 + length
            else:
                return None
    except OSError:
        return None
    if width == 0 or height == 0:
        return None
    if color == 3:
        channels = 4 if transparent else 3
    elif color in _PNG_CHANNELS:
        channels = _PNG_CHANNELS[color]
    else:
        return None
    simple = depth == 8 and color in (0, 2)
    return height, width, channels, simple
