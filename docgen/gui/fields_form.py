"""The form generated from a template's ``[[fields]]``: one input per field, checked with the pipeline's own rule
(:func:`docgen.pipeline.coerce_field`), problems shown under the field, required fields marked with *."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from docgen.errors import DocgenError
from docgen.model import FieldSpec, TemplateSpec
from docgen.pipeline import coerce_field


class FieldsForm(QWidget):
    """Inputs for the chosen template's fields. ``values()`` returns the typed-in text by field name (an empty
    text means "take it from the data row or the default", as on the command line)."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.template: TemplateSpec | None = None
        self.inputs: dict[str, QLineEdit | QComboBox] = {}
        self.errors: dict[str, QLabel] = {}
        self._layout = QFormLayout()
        self._layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._layout.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self._empty = QLabel("This template has no fields to fill.")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._layout)
        outer.addWidget(self._empty)
        outer.addStretch(1)

    def set_template(self, template: TemplateSpec | None) -> None:
        """Rebuild the form for ``template`` (inputs start at the manifest defaults)."""
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.inputs.clear()
        self.errors.clear()
        self.template = template
        fields = template.fields if template else ()
        self._empty.setVisible(template is not None and not fields)
        for spec in fields:
            widget = self._make_input(spec)
            label = QLabel(f"{spec.label}{' *' if spec.required else ''}:")
            label.setBuddy(widget)
            error = QLabel()
            error.setStyleSheet("QLabel { color: #a00000; }")
            error.setWordWrap(True)
            error.setAccessibleName(f"{spec.label} problem")
            error.hide()
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(2)
            col.addWidget(widget)
            col.addWidget(error)
            self._layout.addRow(label, box)
            self.inputs[spec.name] = widget
            self.errors[spec.name] = error

    def _make_input(self, spec: FieldSpec) -> QLineEdit | QComboBox:
        default = "" if spec.default is None else str(spec.default)
        description = spec.help or ("Required." if spec.required else "Optional; empty uses the data or default.")
        if spec.type == "choice":
            combo = QComboBox()
            if not spec.required:
                combo.addItem("")
            combo.addItems(list(spec.choices))
            if default:
                combo.setCurrentText(default)
            combo.currentTextChanged.connect(lambda _t, name=spec.name: self._edited(name))
            widget: QLineEdit | QComboBox = combo
        else:
            edit = QLineEdit(default)
            if spec.type == "number":
                edit.setPlaceholderText("a number, e.g. 1250.5")
                validator = QDoubleValidator(edit)
                validator.setNotation(QDoubleValidator.Notation.StandardNotation)
                edit.setValidator(validator)
            elif spec.type == "date":
                edit.setPlaceholderText("YYYY-MM-DD")
                edit.setInputMask("")
            elif not spec.required:
                edit.setPlaceholderText("from the data, if it has this column")
            edit.textChanged.connect(lambda _t, name=spec.name: self._edited(name))
            widget = edit
        widget.setAccessibleName(spec.label)
        widget.setAccessibleDescription(description)
        widget.setToolTip(description)
        widget.setObjectName(f"field_{spec.name}")
        return widget

    def _edited(self, name: str) -> None:
        self.check(name)
        self.changed.emit()

    def values(self) -> dict[str, str]:
        """Field name -> the text typed in (stripped)."""
        out = {}
        for name, widget in self.inputs.items():
            text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            out[name] = text.strip()
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill the inputs (restoring autosaved work); unknown names are ignored."""
        for name, value in values.items():
            widget = self.inputs.get(name)
            if widget is None:
                continue
            text = "" if value is None else str(value)
            if isinstance(widget, QComboBox):
                widget.setCurrentText(text)
            else:
                widget.setText(text)

    def check(self, name: str) -> str:
        """Check one field with the pipeline's rule; show and return the problem ('' when fine).

        Empty required fields are only reported by :meth:`validate` (not while typing)."""
        if self.template is None or name not in self.inputs:
            return ""
        value = self.values()[name]
        problem = ""
        if value:
            try:
                coerce_field(self.template, name, value)
            except DocgenError as exc:
                problem = str(exc)
        self._show(name, problem)
        return problem

    def validate(self) -> list[str]:
        """Check every field (including required ones left empty); returns the problems shown."""
        problems = []
        if self.template is None:
            return problems
        for spec in self.template.fields:
            problem = self.check(spec.name)
            if not problem and spec.required and not self.values()[spec.name] and spec.default in (None, ""):
                problem = f"'{spec.label}' is required."
                self._show(spec.name, problem)
            if problem:
                problems.append(problem)
        return problems

    def _show(self, name: str, problem: str) -> None:
        label = self.errors[name]
        label.setText(problem)
        label.setVisible(bool(problem))
        self.inputs[name].setProperty("invalid", bool(problem))
