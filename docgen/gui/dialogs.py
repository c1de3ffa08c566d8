"""Message boxes and file pickers, in one place so tests (and the screenshot script) can answer them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

DATA_FILTER = "Data files (*.csv *.tsv *.txt *.xlsx *.xlsm *.json);;All files (*)"
TEMPLATE_FILTER = "docgen templates (docgen.toml *.docgen);;All files (*)"


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A modal error box showing ``message`` (``str(DocgenError)``: the same words as the CLI)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setTextInteractionFlags(box.textInteractionFlags())
    box.setAccessibleName(title)
    box.exec()


def ask(parent: QWidget | None, title: str, question: str) -> bool:
    """A Yes/No question; True for Yes."""
    answer = QMessageBox.question(parent, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def open_file(parent: QWidget | None, title: str, folder: Path | None, name_filter: str) -> Path | None:
    """An Open dialog; None when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, title, str(folder or ""), name_filter)
    return Path(path) if path else None


def open_folder(parent: QWidget | None, title: str, folder: Path | None) -> Path | None:
    """A folder picker; None when the user cancels."""
    path = QFileDialog.getExistingDirectory(parent, title, str(folder or ""))
    return Path(path) if path else None


def save_file(parent: QWidget | None, title: str, suggested: Path) -> Path | None:
    """A Save As dialog for a .docx; None when the user cancels."""
    path, _ = QFileDialog.getSaveFileName(parent, title, str(suggested), "Word documents (*.docx)")
    if not path:
        return None
    result = Path(path)
    return result if result.suffix.lower() == ".docx" else result.with_suffix(result.suffix + ".docx")
