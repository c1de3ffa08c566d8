"""Every item model of the GUI passes pytest-qt's model tester (Qt's QAbstractItemModelTester)."""

from __future__ import annotations

from pathlib import Path

from docgen.gui.batch_tab import BatchStatusModel
from docgen.gui.data_preview import DatasetTableModel
from docgen.gui.gallery import TemplateListModel
from docgen.model import ProgressEvent
from docgen.sources import load_dataset
from docgen.templates.catalog import CatalogEntry, resolve, scan

ROOT = Path(__file__).resolve().parents[2]


def test_template_list_model(qtmodeltester):
    entries = scan()
    entries.append(CatalogEntry(Path("/nowhere/broken"), "user", None, "broken: no docgen.toml"))
    model = TemplateListModel(entries)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == len(entries)
    assert model.row_of("sales-report") >= 0
    model.add_spec(resolve("service-reply"))  # replaced in place, not duplicated
    assert model.rowCount() == len(entries)
    qtmodeltester.check(model, force_py=True)


def test_dataset_table_model(qtmodeltester):
    dataset = load_dataset(ROOT / "templates" / "service-reply" / "sample.csv")
    model = DatasetTableModel(dataset)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == len(dataset.rows)
    assert model.columnCount() == len(dataset.columns)
    model.set_dataset(None)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 0


def test_batch_status_model(qtmodeltester):
    dataset = load_dataset(ROOT / "templates" / "service-reply" / "sample.csv")
    model = BatchStatusModel()
    qtmodeltester.check(model, force_py=True)
    model.prepare(dataset, [str(r["ticket_id"]) for r in dataset.rows])
    model.apply(ProgressEvent("document_started", document=0, documents=len(dataset.rows)))
    model.apply(ProgressEvent("document_done", document=0, documents=len(dataset.rows), path=Path("/x/a.docx")))
    model.apply(ProgressEvent("document_failed", document=1, documents=len(dataset.rows), text="bad row"))
    model.finish(cancelled=True)
    qtmodeltester.check(model, force_py=True)
    assert model.items[0].detail == "a.docx"
    assert model.items[1].status == "Failed"
    assert model.items[2].status.startswith("Not written")
