"""Pictures from data: the ``image`` tag, every input format converted to what Word shows, sizes, and a
missing or unreadable picture (placeholder + warning, or an error naming row and column in strict mode).
Tests read the written .docx back: the picture's stored format, pixels, size on the page and alt text."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from PIL import Image

from docgen.errors import DataError, TemplateError
from docgen.model import Column, Dataset
from docgen.render import read_pictures, render_document
from docgen.render import pdf as pdf_mod
from docgen.render.images import parse_length, prepare_picture

HAS_SOFFICE = pdf_mod.find_soffice() is not None and shutil.which("pdfimages") is not None

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
       '<rect width="200" height="100" fill="#4472C4"/><circle cx="100" cy="50" r="30" fill="#FFC000"/></svg>')


def dataset(folder: Path, rows: list[dict], name: str = "staff.csv") -> Dataset:
    path = folder / name
    path.write_text("placeholder\n", encoding="utf-8")
    cols = tuple(Column(k) for k in rows[0])
    return Dataset(path, cols, tuple(rows), tuple(range(2, len(rows) + 2)))


def template(folder: Path, text: str) -> Path:
    d = docx.Document()
    d.add_paragraph(text)
    path = folder / "tpl.docx"
    d.save(str(path))
    return path


def make_image(path: Path, fmt: str, mode: str = "RGB", size=(400, 300), **save) -> Path:
    im = Image.new(mode, size, {"RGB": (200, 30, 30), "RGBA": (30, 200, 30, 128), "CMYK": (200, 0, 0, 0),
                                "P": 3, "L": 128}[mode])
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, fmt, **save)
    return path


def render_row(tmp_path: Path, tag: str, row: dict, *, strict=False, row_index=0, rows=None):
    """Render ``tag`` for one record in rows mode (like the pipeline's context); returns (path, warnings)."""
    rows = rows or [row]
    data = dataset(tmp_path, rows)
    ctx = {"row": row, "row_number": data.row_numbers[row_index]}
    warnings: list[str] = []
    out = render_document(template(tmp_path, tag), ctx, {}, tmp_path / "out.docx", dataset=data,
                          strict_images=strict, warnings=warnings, record=f"row {ctx['row_number']} of staff.csv")
    return out, warnings


@pytest.mark.parametrize("name, fmt, mode, stored, kept", [
    ("photo.png", "PNG", "RGBA", "image/png", True),
    ("photo.jpg", "JPEG", "RGB", "image/jpeg", True),
    ("cmyk.jpg", "JPEG", "CMYK", "image/jpeg", False),
    ("photo.webp", "WEBP", "RGB", "image/png", False),
    ("anim.gif", "GIF", "P", "image/png", False),
    ("photo.bmp", "BMP", "RGB", "image/png", False),
    ("scan.tiff", "TIFF", "RGB", "image/png", False),
    ("scan-cmyk.tif", "TIFF", "CMYK", "image/png", False),
])
def test_each_format_becomes_a_picture_word_shows(tmp_path, name, fmt, mode, stored, kept):
    extra = {"save_all": True, "append_images": [Image.new("P", (400, 300), 5)]} if fmt == "GIF" else {}
    src = make_image(tmp_path / "photos" / name, fmt, mode, **extra)
    out, warnings = render_row(tmp_path, "{{ image(row.photo, width='4cm') }}", {"id": 1, "photo": f"photos/{name}"})
    assert warnings == []
    (pic,) = read_pictures(out)
    assert pic.content_type == stored and (pic.width_px, pic.height_px) == (400, 300)
    assert pic.cx == 4 * 360000 and pic.cy == 3 * 360000  # 4 cm wide, aspect ratio kept
    assert (pic.blob == src.read_bytes()) is kept
    with Image.open(io.BytesIO(pic.blob)) as im:
        assert im.mode in ("RGB", "RGBA", "L", "P")  # never CMYK: Word and LibreOffice disagree on CMYK
        r, g, b = im.convert("RGB").getpixel((10, 10))
    if mode == "CMYK":  # cyan ink is shown as cyan, not inverted
        assert r < 100 and g > 40 and b > 40
    if mode == "RGB" and fmt != "JPEG":  # WebP is lossy: within a few levels
        assert max(abs(a - b) for a, b in zip((r, g, b), (200, 30, 30), strict=True)) <= 3


def test_svg_is_rendered_at_print_resolution(tmp_path):
    (tmp_path / "logo.svg").write_text(SVG, encoding="utf-8")
    out, warnings = render_row(tmp_path, "{{ image(row.logo, width='5cm') }}", {"logo": "logo.svg"})
    (pic,) = read_pictures(out)
    assert warnings == [] and pic.content_type == "image/png"
    assert pic.width_px == pytest.approx(5 / 2.54 * 300, abs=1) and pic.height_px == pytest.approx(pic.width_px / 2, abs=1)
    assert (pic.cx, pic.cy) == (1800000, 900000)
    with Image.open(io.BytesIO(pic.blob)) as im:
        assert im.convert("RGB").getpixel((5, 5)) == (0x44, 0x72, 0xC4)
        assert im.convert("RGB").getpixel((im.width // 2, im.height // 2)) == (0xFF, 0xC0, 0x00)


def test_exif_rotation_is_applied(tmp_path):
    im = Image.new("RGB", (400, 200), (10, 10, 200))
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    im.save(tmp_path / "phone.jpg", "JPEG", exif=exif)
    out, _ = render_row(tmp_path, "{{ image(row.photo, height='4cm') }}", {"photo": "phone.jpg"})
    (pic,) = read_pictures(out)
    assert (pic.width_px, pic.height_px) == (200, 400) and pic.cy == 4 * 360000 and pic.cx == 2 * 360000


def test_sizes_and_oversized_photos(tmp_path):
    make_image(tmp_path / "big.png", "PNG", size=(6000, 4000))
    out, _ = render_row(tmp_path, "{{ image(row.p, width='2in') }}", {"p": "big.png"})
    (pic,) = read_pictures(out)
    assert pic.width_px == 600 and pic.height_px == 400  # scaled to 300 dpi for a 2-inch slot
    make_image(tmp_path / "small.png", "PNG", size=(96, 48))
    out, _ = render_row(tmp_path, "{{ image(row.p) }}", {"p": "small.png"})
    (pic,) = read_pictures(out)
    assert (pic.cx, pic.cy) == (914400, 457200)  # natural size: 96 px at 96 dpi = 1 inch
    out, _ = render_row(tmp_path, "{{ image(row.p, width='3cm', height='1cm') }}", {"p": "small.png"})
    assert [(p.cx, p.cy) for p in read_pictures(out)] == [(3 * 360000, 360000)]
    assert parse_length("40mm") == parse_length("4cm") == 1440000 and parse_length("72pt") == 914400
    with pytest.raises(TemplateError, match="image width '4' is not a length"):
        render_row(tmp_path, "{{ image(row.p, width=4) }}", {"p": "small.png"})


def test_paragraph_tag_alt_text_and_absolute_path(tmp_path):
    src = make_image(tmp_path / "elsewhere" / "Ana_Silva.png", "PNG")
    out, _ = render_row(tmp_path, "{{p image(row.photo, width='3cm') }}", {"photo": str(src)})
    (pic,) = read_pictures(out)
    assert pic.alt_text == "Ana Silva" and pic.name == "Ana_Silva.png"
    out, _ = render_row(tmp_path, "{{ image(row.photo, width='3cm', alt='Portrait of ' ~ row.name) }}",
                        {"photo": str(src), "name": "Ana"})
    assert read_pictures(out)[0].alt_text == "Portrait of Ana"


# -- missing and broken pictures --------------------------------------------------------------------------------------

def test_missing_picture_shows_a_placeholder_and_a_warning(tmp_path):
    rows = [{"id": 1, "photo": "a.png"}, {"id": 2, "photo": "photos/missing.jpg"}]
    out, warnings = render_row(tmp_path, "Photo: {{ image(row.photo, width='3cm') }}", rows[1], row_index=1, rows=rows)
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "Photo: [image missing: photos/missing.jpg]" in text
    assert read_pictures(out) == []
    (warning,) = warnings
    assert "row 3, column 'photo'" in warning and "there is no file" in warning and "missing.jpg" in warning


def test_corrupt_picture_url_and_empty_cell(tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    out, warnings = render_row(tmp_path, "{{ image(row.photo) }}", {"photo": "broken.jpg"})
    assert "[image unreadable: broken.jpg]" in docx.Document(str(out)).paragraphs[0].text
    assert "column 'photo'" in warnings[0] and "not a picture Pillow can read" in warnings[0]
    out, warnings = render_row(tmp_path, "{{ image(row.photo) }}", {"photo": "https://example.com/a.png"})
    assert "docgen works offline" in warnings[0]
    out, warnings = render_row(tmp_path, "[{{ image(row.photo) }}]", {"photo": None})
    assert warnings == [] and docx.Document(str(out)).paragraphs[0].text == "[]"  # no picture, no "None"


def test_strict_mode_names_file_row_and_column(tmp_path):
    rows = [{"id": 1, "photo": "ok.png"}, {"id": 2, "photo": "gone.png"}]
    with pytest.raises(DataError) as err:
        render_row(tmp_path, "{{ image(row.photo) }}", rows[1], strict=True, row_index=1, rows=rows)
    assert err.value.row == 3 and err.value.column == "photo"
    assert str(err.value).startswith("staff.csv, row 3, column 'photo': the picture cannot be used: there is no file")
    assert not (tmp_path / "out.docx").exists()
    with pytest.raises(DataError, match="cell is empty"):
        render_row(tmp_path, "{{ image(row.photo) }}", {"photo": ""}, strict=True)


def test_table_mode_loop_names_the_row(tmp_path):
    make_image(tmp_path / "a.png", "PNG")
    rows = [{"name": "A", "photo": "a.png"}, {"name": "B", "photo": "b.png"}]
    data = dataset(tmp_path, rows)
    warnings: list[str] = []
    tpl = template(tmp_path, "{% for r in rows %}{{ r.name }} {{ image(r.photo, width='1cm') }} {% endfor %}")
    out = render_document(tpl, {"rows": rows}, {}, tmp_path / "t.docx", dataset=data, warnings=warnings)
    assert len(read_pictures(out)) == 1
    assert "row 3, column 'photo'" in warnings[0]


def test_real_pictures_from_a_word_document(tmp_path, realdata):
    """The JPEG, GIF and PNG that docx4j's sample document holds, as a data file's picture folder."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    with zipfile.ZipFile(realdata / "docx" / "sample-docx.docx") as z:
        names = [n for n in z.namelist() if n.startswith("word/media/")]
        for n in names:
            (folder / Path(n).name).write_bytes(z.read(n))
    rows = [{"pic": f"pictures/{Path(n).name}"} for n in names]
    data = dataset(tmp_path, rows)
    tpl = template(tmp_path, "{% for r in rows %}{{ image(r.pic, width='3cm') }}{% endfor %}")
    warnings: list[str] = []
    out = render_document(tpl, {"rows": rows}, {}, tmp_path / "real.docx", dataset=data, warnings=warnings)
    pics = read_pictures(out)
    assert warnings == [] and len(pics) == len(names) == 3
    assert {p.content_type for p in pics} == {"image/png", "image/jpeg"}  # the GIF became a PNG
    assert all(p.cx == 3 * 360000 for p in pics)


def test_prepare_picture_refuses_decompression_bombs(tmp_path):
    from docgen import limits
    from docgen.render.images import UnreadableImage

    side = int(limits.DEFAULTS.image_pixels ** 0.5) + 10
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, "PNG")
    with pytest.raises(UnreadableImage, match="more (pixels )?than docgen reads"):
        prepare_picture(buf.getvalue(), "huge.png")


def test_picture_bounds_come_from_limits(tmp_path, monkeypatch):
    from docgen.render.images import UnreadableImage

    buf = io.BytesIO()
    Image.new("RGB", (200, 200), "red").save(buf, "PNG")
    prepare_picture(buf.getvalue(), "ok.png")
    monkeypatch.setenv("DOCGEN_LIMIT_IMAGE_PIXELS", "10000")
    with pytest.raises(UnreadableImage, match="200 x 200 pixels.*10,000 pixels; raise it with the environment "
                                              "variable DOCGEN_LIMIT_IMAGE_PIXELS"):
        prepare_picture(buf.getvalue(), "big.png")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) and pdfimages are not installed")
def test_libreoffice_shows_every_converted_picture(tmp_path):
    names = []
    for name, fmt, mode in [("a.webp", "WEBP", "RGB"), ("b.gif", "GIF", "P"), ("c.bmp", "BMP", "RGB"),
                            ("d.tiff", "TIFF", "RGB"), ("e.jpg", "JPEG", "CMYK")]:
        make_image(tmp_path / name, fmt, mode)
        names.append(name)
    (tmp_path / "f.svg").write_text(SVG, encoding="utf-8")
    names.append("f.svg")
    rows = [{"pic": n} for n in names]
    data = dataset(tmp_path, rows)
    tpl = template(tmp_path, "{% for r in rows %}{{ image(r.pic, width='2cm') }} {% endfor %}")
    out = render_document(tpl, {"rows": rows, "today": dt.date.today()}, {}, tmp_path / "pics.docx", dataset=data)
    pdf = pdf_mod.convert_to_pdf(out)
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len([ln for ln in listing.splitlines()[2:] if ln.strip()]) >= len(names)
