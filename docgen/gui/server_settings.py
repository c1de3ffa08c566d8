"""The Server part of the Settings dialog: the OpenAI-compatible inference server for ``backend = "openai"``
(address, model name, API key, documents in flight) and a *Test connection* button that asks the server for its
models and one token, off the GUI thread (:func:`docgen.llm.openai.test_connection`). Keys the machine policy
sets are shown locked; the key field never shows a key the policy holds. See docs/scaling.md."""

from __future__ import annotations

import os
import threading

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QWidget)

from docgen import paths
from docgen.errors import DocgenError
from docgen.settings import API_KEY_ENV, Settings

LOCK = "\U0001F512"


class ServerSection(QGroupBox):
    """Server settings. :meth:`values` gives the unlocked keys; ``tested`` fires with (ok, message) when a Test
    connection ends; :attr:`last_result` holds that message."""

    tested = Signal(bool, str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__("Inference server (backend openai)", parent)
        self.setAccessibleName("Inference server")
        self.settings = settings
        self.last_result = ""
        self.url = QLineEdit(settings.server_url)
        self.url.setPlaceholderText("http://127.0.0.1:8080/v1")
        self.url.setAccessibleName("Server address")
        self.url.setToolTip("The OpenAI-compatible API address of llama-server, vLLM, Ollama, LM Studio...")
        self.model = QLineEdit(settings.server_model)
        self.model.setPlaceholderText("the one model the server serves")
        self.model.setAccessibleName("Server model name")
        self.key = QLineEdit("" if "server_api_key" in settings.locked else settings.server_api_key)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("Server API key")
        self.key.setPlaceholderText("set by IT" if "server_api_key" in settings.locked and settings.server_api_key
                                    else f"from {API_KEY_ENV}" if os.environ.get(API_KEY_ENV) else "none")
        self.jobs = QSpinBox()
        self.jobs.setRange(0, 256)
        self.jobs.setSpecialValueText("Automatic")
        self.jobs.setValue(settings.jobs)
        self.jobs.setAccessibleName("Documents in flight")
        self.jobs.setToolTip("Batch documents sent to the server at once (--jobs); give the server as many slots.")
        self.test_button = QPushButton("&Test connection")
        self.test_button.setAccessibleName("Test the server connection")
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Connection test result")
        form = QFormLayout(self)
        self._rows: dict[str, QWidget] = {}
        self._add(form, "server_url", "Server &address:", self.url)
        self._add(form, "server_model", "Model &name:", self.model)
        self._add(form, "server_api_key", "API &key:", self.key)
        self._add(form, "jobs", "&Documents at once:", self.jobs)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.test_button)
        line.addWidget(self.result, 1)
        form.addRow(row)
        self.test_button.clicked.connect(self.test_connection)
        self.tested.connect(self._show_result)
        if "openai" not in settings.usable_backends():
            self.setEnabled(False)
            self.setTitle(f"{LOCK} Inference server: not allowed by your IT department's policy")

    def _add(self, form: QFormLayout, key: str, text: str, widget: QWidget) -> None:
        locked = key in self.settings.locked
        label = QLabel(f"{LOCK} {text}" if locked else text)
        label.setBuddy(widget)
        form.addRow(label, widget)
        self._rows[key] = widget
        if locked:
            widget.setEnabled(False)
            widget.setToolTip(f"Locked by your IT department's policy ({paths.policy_file()}).")
            widget.setAccessibleDescription("Locked by policy")

    def values(self) -> dict[str, object]:
        """The server keys in the section that the policy does not lock."""
        values: dict[str, object] = {"server_url": self.url.text().strip(), "server_model": self.model.text().strip(),
                                     "server_api_key": self.key.text().strip(), "jobs": self.jobs.value()}
        return {k: v for k, v in values.items() if k not in self.settings.locked}

    def test_connection(self) -> None:
        """Ask the server (on a worker thread) for its models and one token; the result shows beside the button."""
        from docgen.llm.openai import test_connection

        url = self.url.text().strip() or self.settings.server_url
        model = self.model.text().strip()
        key = self.settings.server_api_key if "server_api_key" in self.settings.locked else (
            self.key.text().strip() or os.environ.get(API_KEY_ENV, ""))
        self.test_button.setEnabled(False)
        self.result.setText("Testing…")

        def work() -> None:
            try:
                message = test_connection(url, model=model, api_key=key, require_tls=self.settings.server_require_tls)
                self.tested.emit(True, message)
            except DocgenError as exc:
                self.tested.emit(False, str(exc))
            except Exception as exc:  # noqa: BLE001 - whatever happens, the dialog must say it
                self.tested.emit(False, f"{type(exc).__name__}: {exc}")

        threading.Thread(target=work, name="docgen-server-test", daemon=True).start()

    def _show_result(self, ok: bool, message: str) -> None:
        self.last_result = message
        self.result.setText(("\u2713 " if ok else "\u2717 ") + message)
        self.result.setStyleSheet("" if ok else "QLabel { color: #a00000; }")
        self.test_button.setEnabled(True)
