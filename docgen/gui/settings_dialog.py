"""The Settings dialog over :mod:`docgen.settings`: model file (empty = the embedded default), threads, context
size, default temperature and seed, output folder, backend. Keys locked by the machine policy are shown
disabled with a padlock and the reason. OK validates with :meth:`Settings.with_overrides` (the CLI's rule)
and saves settings.toml."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from docgen import paths
from docgen.errors import DocgenError
from docgen.llm.discovery import embedded_model
from docgen.settings import BACKENDS, Settings, save_settings
from docgen.gui import dialogs

LOCK = "\U0001F512"


class SettingsDialog(QDialog):
    """Edit and save the user's settings. After ``exec()`` returns Accepted, :attr:`result_settings` holds
    the saved settings."""

    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("docgen settings")
        self.setAccessibleName("Settings")
        self.settings = settings
        self.result_settings: Settings | None = None
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("QLabel { color: #a00000; }")
        self.error.setAccessibleName("Settings problem")
        self.error.hide()

        embedded = embedded_model()
        self.model_path = QLineEdit(settings.model_path)
        self.model_path.setPlaceholderText(
            f"Embedded default: {embedded.name}" if embedded else "Discover (user or IT models folder)")
        self.model_path.setAccessibleName("Model file")
        self.model_path.setToolTip("A GGUF model file. Leave empty to use the embedded default model.")
        self.model_browse = QPushButton("Browse…")
        self.model_browse.setAccessibleName("Browse for a model file")
        self.models_button = QPushButton("Models…")  # the model library, catalogue and downloads (#13)
        self.models_button.setAccessibleName("Open the Models dialog")
        self.threads = QSpinBox()
        self.threads.setRange(0, max(64, os.cpu_count() or 1))
        self.threads.setSpecialValueText(f"Automatic ({settings.effective_threads() if not settings.threads else ''})"
                                          .replace(" ()", ""))
        self.threads.setValue(settings.threads)
        self.threads.setAccessibleName("Threads")
        self.n_ctx = QSpinBox()
        self.n_ctx.setRange(256, 131072)
        self.n_ctx.setSingleStep(512)
        self.n_ctx.setSuffix(" tokens")
        self.n_ctx.setValue(settings.n_ctx)
        self.n_ctx.setAccessibleName("Context size")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setDecimals(2)
        self.temperature.setValue(settings.temperature)
        self.temperature.setAccessibleName("Default temperature")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(settings.seed)
        self.seed.setAccessibleName("Default seed")
        self.output_dir = QLineEdit(settings.output_dir)
        self.output_dir.setPlaceholderText(str(Settings().effective_output_dir()))
        self.output_dir.setAccessibleName("Output folder")
        self.output_browse = QPushButton("Browse…")
        self.output_browse.setAccessibleName("Browse for the output folder")
        self.backend = QComboBox()
        self.backend.addItems([b for b in BACKENDS if b in settings.usable_backends()])  # the policy's choice
        self.backend.setCurrentText(settings.backend)
        self.backend.setAccessibleName("Backend")
        self.backend.setToolTip("llamacpp: the local model. openai: an inference server (below). fake: scripted "
                                "text for demos without a model.")
        from docgen.gui.server_settings import ServerSection  # the inference server (#10)

        self.server = ServerSection(settings)

        self.rows: dict[str, tuple[QLabel, list[QWidget]]] = {}
        form = QFormLayout()
        self._add(form, "model_path", "&Model file:", self._with_button(self.model_path, self.model_browse,
                                                                        self.models_button),
                  [self.model_path, self.model_browse])
        self._add(form, "threads", "&Threads:", self.threads, [self.threads])
        self._add(form, "n_ctx", "&Context size:", self.n_ctx, [self.n_ctx])
        self._add(form, "temperature", "Default t&emperature:", self.temperature, [self.temperature])
        self._add(form, "seed", "Default &seed:", self.seed, [self.seed])
        self._add(form, "output_dir", "&Output folder:", self._with_button(self.output_dir, self.output_browse),
                  [self.output_dir, self.output_browse])
        self._add(form, "backend", "&Backend:", self.backend, [self.backend])

        note = QLabel(f"Saved in {paths.settings_file()}" + (
            f"\n{LOCK} Locked by your IT department's policy ({paths.policy_file()})" if settings.locked else "")
            + (f"\n{LOCK} {settings.policy_error}" if settings.policy_error else ""))
        note.setWordWrap(True)
        note.setStyleSheet("QLabel { color: gray; }")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setAccessibleName("Save settings")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel settings")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.server)
        layout.addWidget(self.error)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.model_browse.clicked.connect(self._browse_model)
        self.models_button.clicked.connect(self.open_models)
        self.output_browse.clicked.connect(self._browse_output)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 48)

    @staticmethod
    def _with_button(edit: QLineEdit, *buttons: QPushButton) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        for button in buttons:
            row.addWidget(button)
        return box

    def _add(self, form: QFormLayout, key: str, text: str, field: QWidget, widgets: list[QWidget]) -> None:
        locked = key in self.settings.locked
        label = QLabel(f"{LOCK} {text}" if locked else text)
        label.setBuddy(widgets[0])
        form.addRow(label, field)
        self.rows[key] = (label, widgets)
        if locked:
            for widget in widgets:
                widget.setEnabled(False)
                widget.setToolTip(f"Locked by your IT department's policy ({paths.policy_file()}).")
                widget.setAccessibleDescription("Locked by policy")

    def is_locked(self, key: str) -> bool:
        """True when the widget for ``key`` is shown locked (disabled)."""
        return not self.rows[key][1][0].isEnabled()

    def values(self) -> dict[str, object]:
        """The values in the dialog, for the keys that are not locked."""
        values: dict[str, object] = {
            "model_path": self.model_path.text().strip(),
            "threads": self.threads.value(),
            "n_ctx": self.n_ctx.value(),
            "temperature": round(self.temperature.value(), 2),
            "seed": self.seed.value(),
            "output_dir": self.output_dir.text().strip(),
            "backend": self.backend.currentText(),
        }
        return {**{k: v for k, v in values.items() if k not in self.settings.locked}, **self.server.values()}

    def accept(self) -> None:  # noqa: D102 - validate and save, stay open on a problem
        try:
            new = self.settings.with_overrides(**self.values())
            save_settings(new)
        except (DocgenError, OSError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.result_settings = new
        super().accept()

    def _browse_model(self) -> None:
        start = Path(self.model_path.text()).parent if self.model_path.text() else paths.user_models_dir()
        path = dialogs.open_file(self, "Choose a GGUF model", start, "GGUF models (*.gguf);;All files (*)")
        if path:
            self.model_path.setText(str(path))

    def open_models(self) -> None:
        """The Models dialog (:mod:`docgen.gui.models_dialog`); a model chosen there fills the model field."""
        from docgen.gui.models_dialog import ModelsDialog

        dialog = ModelsDialog(self.settings, self)
        dialog.exec()
        if dialog.chosen is not None and "model_path" not in self.settings.locked:
            self.model_path.setText(dialog.chosen)

    def _browse_output(self) -> None:
        path = dialogs.open_folder(self, "Choose the output folder", Path(self.output_dir.text() or Path.home()))
        if path:
            self.output_dir.setText(str(path))
