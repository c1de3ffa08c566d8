"""Pictures from data: the ``image`` tag of template.docx, the conversion of image files to what Word shows,
and the inline picture drawing shared with the chart picture fallback (:mod:`.charts`).

The tag (see docs/charts.md)::

    {{ image(row.photo, width="4cm") }}          a picture 4 cm wide, height from its aspect ratio
    {{ image(r.logo, width="3cm", height="2cm") }}
    {{p image(row.photo, width="6cm") }}          the picture in a paragraph of its own

The value is a file name or path; a relative one is taken relative to the folder of the data file (so a
spreadsheet and its ``photos/`` folder travel together). URLs are not fetched: docgen works offline.

What Word is given (Word and LibreOffice show PNG and baseline RGB/grey JPEG everywhere; the rest is
converted with Pillow, SVG rendered with resvg):

- JPEG in RGB or greyscale is embedded as it is (no second lossy compression), unless its EXIF orientation
  says it is rotated or it is far larger than its place on the page (below);
- CMYK/YCCK JPEG (Word shows some with inverted colours, browsers and LibreOffice differ) -> RGB JPEG;
- WebP, GIF (first frame), BMP, TIFF (first page), ICO and anything else Pillow opens -> PNG, keeping
  transparency;
- SVG -> PNG rendered at print resolution for the size it gets on the page.

Size: ``width``/``height`` take a length with its unit: ``"4cm"``, ``"40mm"``, ``"1.5in"``, ``"120pt"``,
``"300px"`` (96 px per inch, as Word counts). One of them keeps the aspect ratio; neither gives the
picture's own size at its resolution, at most :data:`DEFAULT_MAX_WIDTH_CM` wide. A picture with more than
twice the pixels its place needs at 300 dpi is scaled down to 300 dpi (print resolution), so a folder of
camera photos does not make every document tens of megabytes.

An empty cell shows no picture (in strict mode it is an error). A missing file or a file that is not a
picture is, in strict mode (``--strict-images``), a
:class:`~docgen.errors.DataError` naming the data file, the row and the column; otherwise the document shows
``[image missing: photo.jpg]`` (or ``[image unreadable: photo.jpg]``) in red where the picture would be, and a
warning naming the row and column is recorded. Either way a batch goes on with the next document.
"""

from __future__ import annotations

import io
import re
import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from docgen import limits
from docgen.errors import DataError, TemplateError

EMU_PER_INCH = 914400
EMU_PER_CM = 360000
#: print resolution used for rendering SVG and for scaling down oversized pictures
PRINT_DPI = 300
#: width of a picture given no size (the text width of an A4 or Letter page with Word's default margins)
DEFAULT_MAX_WIDTH_CM = 15.0
#: largest image file read (bytes) and largest picture decoded (pixels); beyond these the file is "unreadable"
_UNITS = {"cm": EMU_PER_CM, "mm": EMU_PER_CM / 10, "in": EMU_PER_INCH, "pt": EMU_PER_INCH / 72,
          "px": EMU_PER_INCH / 96, "emu": 1}
_LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(cm|mm|in|pt|px|emu)\s*$", re.I)
_NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def parse_length(value: Any, what: str = "size") -> int | None:
    """A length such as ``"4cm"``, ``"1.5in"``, ``"120pt"`` in EMU (None for None/""). Raises TemplateError for
    a bare number or an unknown unit, naming ``what``."""
    if value is None or value == "":
        return None
    m = _LENGTH.match(str(value))
    if not m or float(m.group(1)) <= 0:
        raise TemplateError(f"{what} '{value}' is not a length; write it with its unit, e.g. \"4cm\", \"40mm\", "
                            "\"1.5in\" or \"120pt\".")
    return int(round(float(m.group(1)) * _UNITS[m.group(2).lower()]))


class Drawing(Markup):
    """The XML a ``chart``/``image`` tag puts in the document: ``str`` is the run-level form (closes the tag's
    run, adds a run with the drawing, reopens a run), ``run_xml`` the drawing's own ``w:r``. :func:`as_block`
    and :func:`as_run` use ``run_xml`` for ``{{p }}`` and ``{{r }}`` tags."""

    run_xml: str

    def __new__(cls, run_xml: str):
        obj = super().__new__(cls, f'</w:t></w:r>{run_xml}<w:r><w:t xml:space="preserve">')
        obj.run_xml = run_xml
        return obj


def as_block(value: Any) -> Markup | None:
    """The paragraph for ``{{p tag }}`` when ``value`` is a :class:`Drawing`, else None."""
    if isinstance(value, Drawing):
        return Markup(f"<w:p>{value.run_xml}</w:p>")
    return None


def as_run(value: Any) -> Markup | None:
    """The run(s) for ``{{r tag }}`` when ``value`` is a :class:`Drawing`, else None."""
    if isinstance(value, Drawing):
        return Markup(value.run_xml)
    return None


def picture_run(host_part, blob: bytes, cx: int, cy: int, *, name: str, alt_text: str, shape_id: int) -> str:
    """A ``w:r`` with an inline picture of ``blob`` (PNG/JPEG bytes) ``cx`` x ``cy`` EMU, related to
    ``host_part`` (the body, a header, a footer or a notes part); ``alt_text`` becomes its description."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.shape import CT_Inline

    image_part = host_part.package.get_or_add_image_part(io.BytesIO(blob))
    rid = host_part.relate_to(image_part, RT.IMAGE)
    inline = CT_Inline.new_pic_inline(shape_id, rid, name, cx, cy)
    inline.docPr.set("descr", alt_text)
    inline.docPr.set("name", name)
    from lxml import etree

    return f"<w:r><w:drawing>{etree.tostring(inline, encoding='unicode')}</w:drawing></w:r>"


def placeholder_run(text: str) -> str:
    """A red run with ``text``: what the document shows instead of a picture that could not be used."""
    return f'<w:r><w:rPr><w:color w:val="C00000"/></w:rPr><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


# ---------------------------------------------------------------------------------------------------------
# conversion


class UnreadableImage(Exception):
    """The file is not a picture docgen can use; ``str()`` says why."""


@dataclass(frozen=True)
class Picture:
    """A picture ready for Word: ``blob`` (PNG or JPEG bytes), ``fmt`` ("png"/"jpeg"), pixel size and the
    resolution it was stored at (dots per inch, for its natural size), and what was done to it (``note``:
    "converted from WebP", ...)."""

    blob: bytes
    fmt: str
    width_px: int
    height_px: int
    dpi: float = 96.0
    note: str = ""
    #: height / width as drawn (exact for SVG, whose pixel size is rounded); None: from the pixel size
    ratio: float | None = None


def _is_svg(data: bytes, name: str) -> bool:
    if name.lower().endswith((".svg", ".svgz")):
        return True
    head = data[:512].lstrip().lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:2048].lower())


def _svg_size(data: bytes) -> tuple[float, float]:
    """The SVG's own size in CSS pixels (96 per inch), from width/height or the viewBox; (300, 150) - the
    browser default - when it states neither."""
    import gzip

    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)[:1 << 20]
    text = data[:8192].decode("utf-8", "replace")
    tag = re.search(r"<svg\b[^>]*>", text, re.S)
    attrs = tag.group(0) if tag else ""

    def length(name: str) -> float | None:
        m = re.search(rf'\b{name}\s*=\s*["\']\s*([\d.]+)\s*(px|pt|cm|mm|in)?\s*["\']', attrs)
        if not m:
            return None
        scale = {"px": 1, None: 1, "pt": 96 / 72, "in": 96, "cm": 96 / 2.54, "mm": 96 / 25.4}[m.group(2)]
        return float(m.group(1)) * scale

    w, h = length("width"), length("height")
    box = re.search(r'viewBox\s*=\s*["\']\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)', attrs)
    if box and (w is None or h is None):
        bw, bh = float(box.group(1)), float(box.group(2))
        if w is None and h is None:
            w, h = bw, bh
        elif w is None:
            w = h * bw / bh if bh else h
        else:
            h = w * bh / bw if bw else w
    if not w or not h:
        return 300.0, 150.0
    return w, h


def render_svg(data: bytes, width_px: int, folder: Path | None = None) -> bytes:
    """PNG bytes of SVG ``data`` rendered ``width_px`` wide (resvg). Raises UnreadableImage."""
    import resvg_py

    try:
        text = data.decode("utf-8") if data[:2] != b"\x1f\x8b" else None
        if text is None:
            import gzip

            text = gzip.decompress(data).decode("utf-8")
        return bytes(resvg_py.svg_to_bytes(svg_string=text, width=max(1, int(width_px)),
                                           resources_dir=str(folder) if folder else None))
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise UnreadableImage(f"it is not a valid SVG picture ({exc})") from exc


def prepare_picture(data: bytes, name: str, *, target_width_emu: int | None = None,
                    folder: Path | None = None) -> Picture:
    """Turn the bytes of an image file into a :class:`Picture` Word shows (the rules of the module docstring).

    ``target_width_emu`` is the width it will get on the page (None: its natural width), used to render SVG
    and to scale down oversized pictures. Raises UnreadableImage when the bytes are not a picture."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if _is_svg(data, name):
        w, h = _svg_size(data)
        width_in = (target_width_emu / EMU_PER_INCH) if target_width_emu else w / 96
        px = min(int(round(width_in * PRINT_DPI)), 8000)
        png = render_svg(data, px, folder)
        return Picture(png, "png", px, max(1, int(round(px * h / w))), dpi=px / width_in if width_in else 96,
                       note="rendered from SVG", ratio=h / w)
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            bound = limits.current()
            if im.width * im.height > bound.image_pixels:
                raise UnreadableImage(f"it is {im.width} x {im.height} pixels, more than docgen reads "
                                      f"({limits.describe('image_pixels', bound)}); make it smaller")
            im.load()
    except UnreadableImage:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise UnreadableImage(f"it has more pixels than docgen reads ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnreadableImage(f"it is not a picture Pillow can read ({type(exc).__name__}: {exc})") from exc
    fmt = (im.format or "").upper()
    dpi_info = im.info.get("dpi")
    try:
        dpi = float(dpi_info[0]) if dpi_info and float(dpi_info[0]) >= 30 else 96.0
    except (TypeError, ValueError):
        dpi = 96.0
    rotated = fmt in ("JPEG", "MPO", "TIFF", "WEBP", "PNG") and im.getexif().get(0x0112, 1) not in (1, None)
    if rotated:
        im = ImageOps.exif_transpose(im)
    note = ""
    width_in = (target_width_emu / EMU_PER_INCH) if target_width_emu else im.width / dpi
    limit = int(width_in * PRINT_DPI * 2)
    resize = width_in > 0 and im.width > limit > 0
    if resize:
        new_w = int(width_in * PRINT_DPI)
        im = im.resize((new_w, max(1, round(im.height * new_w / im.width))), Image.Resampling.LANCZOS)
        dpi = new_w / width_in
        note = f"scaled down to {PRINT_DPI} dpi"
    if fmt == "PNG" and not rotated and not resize:
        return Picture(data, "png", im.width, im.height, dpi)
    if fmt in ("JPEG", "MPO") and im.mode in ("RGB", "L") and not rotated and not resize:
        return Picture(data, "jpeg", im.width, im.height, dpi)
    out = io.BytesIO()
    if fmt in ("JPEG", "MPO") or (fmt == "" and im.mode == "CMYK"):
        if im.mode not in ("RGB", "L"):
            note = note or f"converted from {im.mode} JPEG"
            im = im.convert("RGB")
        im.save(out, "JPEG", quality=90, dpi=(dpi, dpi))
        return Picture(out.getvalue(), "jpeg", im.width, im.height, dpi, note)
    if getattr(im, "n_frames", 1) > 1:
        im.seek(0)
    if im.mode in ("CMYK", "YCbCr", "LAB", "HSV", "I;16", "I;16B", "I;16L", "I", "F"):
        im = im.convert("RGB")
    elif im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode not in ("RGB", "RGBA", "L", "LA", "1"):
        im = im.convert("RGBA")
    im.save(out, "PNG", dpi=(dpi, dpi))
    return Picture(out.getvalue(), "png", im.width, im.height, dpi, note or f"converted from {fmt or 'image'}")


def picture_size(pic: Picture, width: int | None, height: int | None) -> tuple[int, int]:
    """The picture's size on the page in EMU: both given -> as given; one -> the other from the aspect ratio;
    neither -> its natural size at its resolution, no wider than :data:`DEFAULT_MAX_WIDTH_CM`."""
    ratio = pic.ratio or (pic.height_px / pic.width_px if pic.width_px else 1.0)
    if width and height:
        return width, height
    if width:
        return width, max(1, int(width * ratio))
    if height:
        return max(1, int(height / ratio)) if ratio else height, height
    cx = int(pic.width_px / pic.dpi * EMU_PER_INCH)
    cx = min(cx, int(DEFAULT_MAX_WIDTH_CM * EMU_PER_CM))
    return cx, max(1, int(cx * ratio))


# ---------------------------------------------------------------------------------------------------------
# the tag


@dataclass(frozen=True)
class ImageSource:
    """Where ``image`` values point and how failures are reported: ``folder`` relative paths start from (the
    data file's folder; None: the current folder), ``data_name`` the data file named in messages,
    ``row_numbers`` the row a user sees for each record (:class:`~docgen.model.Dataset`), ``strict``: a
    missing or unreadable picture fails the document instead of showing a placeholder."""

    folder: Path | None = None
    data_name: str = ""
    row_numbers: Sequence[int] = ()
    strict: bool = False


class ImageTag:
    """The ``image(value, width=None, height=None, alt=None)`` function of template.docx (module docstring).

    ``tpl``: the template being rendered (its ``current_rendering_part`` is where the picture goes);
    ``context``: the document's context (to find which row and column a value came from); ``warnings``:
    where warnings about placeholders are appended. The state is in underscore attributes, which the
    sandboxed template cannot reach."""

    def __init__(self, tpl, source: ImageSource, context: Mapping[str, Any], warnings: list[str], *,
                 record: str | None = None) -> None:
        self._tpl, self._source, self._context, self._warnings = tpl, source, context, warnings
        self._record = record
        self._count = 0

    def __call__(self, value: Any, width: Any = None, height: Any = None, alt: Any = None) -> Markup:
        cx = parse_length(width, "image width")
        cy = parse_length(height, "image height")
        text = "" if value is None else str(value).strip()
        if not text:
            return self._fail(value, "the cell is empty", "image missing", "")
        if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I) or text.lower().startswith("data:"):
            return self._fail(value, "it is a URL; docgen works offline and does not download pictures. Save the "
                              "picture next to the data file and put its file name in the cell", "image missing", text)
        path = Path(text)
        if not path.is_absolute() and self._source.folder is not None:
            path = self._source.folder / path
        try:
            size = path.stat().st_size
        except OSError:
            return self._fail(value, f"there is no file {path}", "image missing", text)
        if not path.is_file():
            return self._fail(value, f"{path} is a folder, not a picture", "image missing", text)
        bound = limits.current()
        if size > bound.image_bytes:
            return self._fail(value, f"{path} is {limits.human('image_bytes', size)}, more than docgen reads "
                              f"({limits.describe('image_bytes', bound)})", "image unreadable", text)
        try:
            data = path.read_bytes()
            pic = prepare_picture(data, path.name, target_width_emu=cx, folder=path.parent)
        except (UnreadableImage, OSError) as exc:
            return self._fail(value, f"{path.name}: {exc}", "image unreadable", text)
        if cy and not cx:  # height given: scale for the width it will get
            w, _h = picture_size(pic, None, cy)
            if _is_svg(data, path.name):
                pic = prepare_picture(data, path.name, target_width_emu=w, folder=path.parent)
        ex, ey = picture_size(pic, cx, cy)
        self._count += 1
        host = self._tpl.current_rendering_part
        alt_text = str(alt) if alt is not None else path.stem.replace("_", " ")
        run = picture_run(host, pic.blob, ex, ey, name=path.name, alt_text=alt_text, shape_id=40000 + self._count)
        return Drawing(run)

    # -- failures

    def _where(self, value: Any) -> tuple[int | None, str | None]:
        """The (row, column) a value came from: the column of ``row`` holding it (rows mode), else the first
        record of ``rows`` holding it (table mode)."""
        row = self._context.get("row")
        if isinstance(row, Mapping):
            col = next((k for k, v in row.items() if v == value), None)
            number = self._context.get("row_number")
            return (number if isinstance(number, int) else None), col
        rows = self._context.get("rows")
        if isinstance(rows, Sequence):
            for i, r in enumerate(rows):
                if isinstance(r, Mapping):
                    col = next((k for k, v in r.items() if v == value and value not in (None, "")), None)
                    if col is not None:
                        numbers = self._source.row_numbers
                        return (numbers[i] if i < len(numbers) else None), col
        return None, None

    def _fail(self, value: Any, why: str, label: str, shown: str) -> Markup:
        row, column = self._where(value)
        where = []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        place = ", ".join(where)
        if not self._source.strict and not shown:
            return Markup("")  # an empty cell: no picture for this record, nothing to warn about
        if self._source.strict:
            raise DataError(self._source.data_name or "the data", f"the picture cannot be used: {why}. Fix the cell "
                            "or put the file there (or run without --strict-images to write the document with a "
                            "placeholder).", row=row, column=column)
        self._warnings.append(f"Picture not shown ({place or self._record or 'document'}): {why}; the document shows "
                             f"'[{label}: {shown}]' instead.")
        return Drawing(placeholder_run(f"[{label}: {shown}]"))


__all__ = [
    "DEFAULT_MAX_WIDTH_CM", "Drawing", "ImageSource", "ImageTag", "PRINT_DPI",
    "Picture", "PictureReadBack", "UnreadableImage", "as_block", "as_run", "parse_length", "picture_run", "picture_size",
    "placeholder_run", "prepare_picture", "read_pictures", "render_svg",
]


@dataclass(frozen=True)
class PictureReadBack:
    """A picture of a written .docx (body, headers, footers, notes): its drawing ``name`` and ``alt_text``
    (``wp:docPr`` name and descr), ``content_type`` of the image part ("image/png"...), pixel size of the
    stored image and its size on the page in EMU (``cx``/``cy``), and whether it sits in a text box."""

    name: str
    alt_text: str
    content_type: str
    width_px: int
    height_px: int
    cx: int
    cy: int
    in_text_box: bool = False
    blob: bytes = b""


def read_pictures(source: Path | str | Any) -> list[PictureReadBack]:
    """Every inline or floating picture of a .docx (a path or an open python-docx Document), in document
    order: body, headers and footers, footnotes and endnotes."""
    from PIL import Image

    from docgen.render.parts import part_element, tag_parts

    if isinstance(source, str | Path):
        import docx

        source = docx.Document(str(source))
    ns_a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    ns_r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ns_wp = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
    out = []
    for ref in tag_parts(source):
        root = source.element if ref.kind == "body" else part_element(ref.part)
        for blip in root.iter(f"{{{ns_a}}}blip"):
            rel = ref.part.rels.get(blip.get(f"{{{ns_r}}}embed"))
            if rel is None or rel.is_external:
                continue
            node, in_box = blip, False
            while node is not None and node.tag not in (f"{{{ns_wp}}}inline", f"{{{ns_wp}}}anchor"):
                node = node.getparent()
            if node is None:
                continue
            check = node.getparent()
            while check is not None:
                if check.tag == f"{{{_NS_W}}}txbxContent":
                    in_box = True
                check = check.getparent()
            doc_pr = node.find(f"{{{ns_wp}}}docPr")
            extent = node.find(f"{{{ns_wp}}}extent")
            blob = rel.target_part.blob
            with Image.open(io.BytesIO(blob)) as im:
                w, h = im.size
            out.append(PictureReadBack(
                doc_pr.get("name", "") if doc_pr is not None else "", doc_pr.get("descr", "") if doc_pr is not None
                else "", rel.target_part.content_type, w, h, int(extent.get("cx")), int(extent.get("cy")), in_box,
                blob))
    return out
