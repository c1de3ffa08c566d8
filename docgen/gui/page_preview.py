"""Page-true preview: the written .docx laid out by LibreOffice (the same conversion as PDF export,
:func:`docgen.render.convert_to_pdf`), its pages rasterized by PDFium (pypdfium2), shown as images.

Pages are cached in ``<user cache dir>/previews/<sha256 of the .docx>@<scale>/page-<n>.png``: docgen writes
byte-identical files for identical inputs, so exporting the same document again shows its pages at once.
The work runs on a :class:`PageThread`, never on the GUI thread (LibreOffice takes seconds). Without an office
suite, the Preview tab shows the read-back text preview with a note saying so (:mod:`.preview`).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from docgen import paths
from docgen.errors import DocgenError

log = logging.getLogger(__name__)

#: Pixels per PDF point (1/72 inch): 1.5 = 108 dpi, an A4 page 893 x 1263 px: readable on screen, ~150 KB.
SCALE = 1.5
MAX_PAGES = 30  # a longer document shows its first 30 pages (the note says so)


def cache_dir() -> Path:
    """``<user cache dir>/previews``."""
    return paths.user_cache_dir() / "previews"


def document_key(docx: Path) -> str:
    """The cache key of a written document: the SHA-256 of its bytes."""
    return hashlib.sha256(Path(docx).read_bytes()).hexdigest()


def page_folder(docx: Path, scale: float = SCALE) -> Path:
    """Where the page images of ``docx`` at ``scale`` are cached."""
    return cache_dir() / f"{document_key(docx)}@{scale:g}"


def cached_pages(docx: Path, scale: float = SCALE) -> list[Path] | None:
    """The cached page images of ``docx`` at ``scale``, or None when it was not rendered yet."""
    folder = page_folder(docx, scale)
    done = folder / "done"
    if not done.is_file():
        return None
    return sorted(folder.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))


def pdf_to_pngs(pdf: Path, folder: Path, *, scale: float = SCALE, max_pages: int = MAX_PAGES) -> tuple[list[Path], int]:
    """Rasterize the pages of ``pdf`` with PDFium into ``folder/page-<n>.png`` (n from 1). Returns the files and
    the document's page count. Raises DocgenError when PDFium cannot read the PDF."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError as exc:
        raise DocgenError(f"The page preview cannot read {pdf.name}: {exc}.") from exc
    out: list[Path] = []
    try:
        count = len(document)
        for index in range(min(count, max_pages)):
            page = document[index]
            bitmap = page.render(scale=scale, prefer_bgrx=True)
            image = QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride,
                           QImage.Format.Format_RGB32).copy()
            target = folder / f"page-{index + 1}.png"
            if not image.save(str(target), "PNG"):
                raise DocgenError(f"The page preview could not write {target}.")
            out.append(target)
            bitmap.close()
            page.close()
    finally:
        document.close()
    return out, count


def render_pages(docx: Path, scale: float = SCALE) -> tuple[list[Path], int]:
    """Page images of ``docx`` at ``scale`` pixels per point (cached; see the module docstring) and the page
    count. Raises DocgenError (RenderError from the conversion: no office suite, a failed or timed-out
    conversion)."""
    from docgen.render import convert_to_pdf

    docx = Path(docx)
    pages = cached_pages(docx, scale)
    folder = page_folder(docx, scale)
    if pages is not None:
        count = (folder / "done").read_text(encoding="utf-8").strip()
        return pages, int(count) if count.isdigit() else len(pages)
    work = Path(tempfile.mkdtemp(prefix="docgen-preview-"))
    try:
        pdf = convert_to_pdf(docx, work)
        folder.mkdir(parents=True, exist_ok=True)
        pages, count = pdf_to_pngs(pdf, folder, scale=scale)
        (folder / "done").write_text(str(count), encoding="utf-8")
        return pages, count
    finally:
        shutil.rmtree(work, ignore_errors=True)


class PageThread(QThread):
    """Renders one document's pages off the GUI thread: ``done(docx_path, [png paths], page_count)`` or
    ``failed(docx_path, message)``."""

    done = Signal(object, list, int)
    failed = Signal(object, str)

    def __init__(self, docx: Path, scale: float = SCALE, parent=None) -> None:
        super().__init__(parent)
        self.docx = Path(docx)
        self.scale = scale

    def run(self) -> None:  # noqa: D102 - worker thread
        try:
            pages, count = render_pages(self.docx, self.scale)
        except DocgenError as exc:
            self.failed.emit(self.docx, str(exc))
        except Exception as exc:  # noqa: BLE001 - a preview problem must never take the app down
            log.exception("Page preview of %s failed", self.docx)
            self.failed.emit(self.docx, f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(self.docx, pages, count)
