"""Native Word charts filled from the data: the template's own charts re-bound to aggregates, new charts from
``{{ chart(...) }}`` tags, a picture where Word cannot hold a chart, and a read-back of both.

A Word chart is a DrawingML chart part (``word/charts/chartN.xml``: the chart type, the author's formatting
and a *cache* of every category and value) plus an embedded workbook (``word/embeddings/*.xlsx``: what
"Edit Data" opens). Word and LibreOffice draw from the cache; Word refreshes the cache from the workbook when
the user edits the data. docgen therefore writes both, from one :class:`ChartValues`:

- **binding a template chart** (:func:`bind_charts`, ``[[charts]]`` in docgen.toml): the chart is found by its
  name, alt text or title (or its order in the document, see :func:`find_charts`); its series are rewritten by
  python-pptx's series rewriter (``pptx.chart.xmlwriter.SeriesXmlRewriterFactory``, the code behind
  python-pptx's ``Chart.replace_data``), which keeps every series' formatting, deletes surplus series and
  clones the last series for extra ones; docgen then gives cloned series the next theme accent colour (Word's
  own rule for a new series: accent1..accent6 in turn), drops the clones' Word-2016 unique ids (Word would
  see duplicates) and trims or extends per-point formatting (``c:dPt``/``c:dLbl``, e.g. a pie's slice
  colours) to the new category count. The embedded workbook is replaced by python-pptx's workbook writer
  (``pptx.chart.xlsx``, XlsxWriter): categories in column A from row 2, one column per series with its name
  in row 1 - exactly the cells the rewritten series' formulas (``Sheet1!$B$2:$B$5``) point at.
- **a new chart** (:func:`chart_xml` via the ``chart`` tag of :mod:`.chart_tag`): python-pptx's
  ``ChartXmlWriter`` writes the chart part for the kind, docgen adds a title, a legend for several series
  (or a pie), 10 pt text (python-pptx's default 18 pt is PowerPoint's) and the workbook.
- **a picture** (:func:`chart_picture`): a PNG drawn by matplotlib at print resolution (300 dpi) in Office's
  default palette, used where Word cannot hold a chart (a text box, a footnote) or when asked; its alt text is
  the chart's title.

Values: numbers (int/float) or empty (None / "": a gap). Categories are text, numbers or dates; an empty
category label is shown as ``(blank)``, as Excel's pivot tables do. Everything here is deterministic: the
same values give the same bytes (the workbook's creation time is the fixed time :mod:`.reproducible` uses).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import Part
from docx.oxml.ns import qn
from lxml import etree

from docgen import limits
from docgen.errors import MissingValues, RenderError, TemplateError
from docgen.jinja import compiled
from docgen.model import ChartSpec

NS_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
NS_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
NS_C16 = "http://schemas.microsoft.com/office/drawing/2014/chart"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_NS = {"c": NS_C, "a": NS_A, "r": NS_R, "wp": NS_WP}

#: The chart kinds docgen writes natively (``kind`` of the ``chart`` tag); the placeholder chart's own kind is
#: kept when a template chart is bound.
KINDS = ("bar", "column", "line", "area", "pie", "doughnut", "scatter", "radar")
#: ``stacked``: False (clustered / side by side), True (stacked), "percent" (stacked to 100 %).
STACKING = (False, True, "percent")
# Most points one series may have: docgen.limits' chart_points (5,000: a daily series over 13 years; more is
# unreadable on a page and slow to open in Word).
#: Office's default theme accents (accent1..accent6), used by the picture fallback so it looks like the
#: native chart would.
OFFICE_COLORS = ("#4472C4", "#ED7D31", "#A5A5A5", "#FFC000", "#5B9BD5", "#70AD47")
BLANK_LABEL = "(blank)"
NO_DATA_LABEL = "(no data)"


@dataclass(frozen=True)
class Series:
    """One series of a chart: its ``name`` (legend text) and one value per category (None = no value)."""

    name: str
    values: tuple[float | int | None, ...]


@dataclass(frozen=True)
class ChartValues:
    """What a chart shows: ``categories`` (labels: str, number or date; the x values of a scatter chart) and
    ``series``, each with exactly one value per category, and the Excel ``number_format`` of the values
    ("General", ``"$"#,##0``, ``0.0%``...)."""

    categories: tuple[Any, ...]
    series: tuple[Series, ...]
    number_format: str = "General"


@dataclass(frozen=True)
class ChartRef:
    """A chart in a Word document, as :func:`find_charts` finds it.

    ``index``: 1-based order in the document (body first, then headers and footers); ``name``/``alt_title``/
    ``alt_text``: the drawing's name ("Chart 1"), alt-text title and description (``wp:docPr`` name/title/
    descr); ``title``: the text of the chart's own title; ``part``: the chart part; ``host``: the part whose XML
    holds the drawing; ``drawing``: the ``wp:inline``/``wp:anchor`` element."""

    index: int
    name: str
    alt_title: str
    alt_text: str
    title: str
    part: Any
    host: Any
    drawing: Any

    def matches(self, wanted: str) -> bool:
        """True if ``wanted`` is this chart's name, alt-text title, alt text or title (case and spacing are
        ignored)."""
        key = _norm(wanted)
        return bool(key) and key in {_norm(self.name), _norm(self.alt_title), _norm(self.alt_text), _norm(self.title)}

    def describe(self) -> str:
        """How a message names this chart: ``chart 2 ("Chart 2", title "Sales by region")``."""
        bits = [f'"{self.name}"'] if self.name else []
        if self.title:
            bits.append(f'title "{self.title}"')
        if self.alt_text and self.alt_text != self.title:
            bits.append(f'alt text "{self.alt_text}"')
        return f"chart {self.index}" + (f" ({', '.join(bits)})" if bits else "")


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


# ---------------------------------------------------------------------------------------------------------
# values from data


def _label(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return BLANK_LABEL
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | dt.date):
        return value
    return str(value)


def _number(value: Any, what: str, series: str, category: Any) -> float | int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RenderError(f"{what}: the value of '{series}' for '{category}' is '{value}', which is not a number. "
                          "Chart series must be numeric columns (or aggregates of them); fix the data or bind "
                          "another column.")
    if value != value or value in (float("inf"), float("-inf")):  # NaN / infinity
        return None
    if isinstance(value, float):  # Excel keeps 15 significant digits: 725457.8245000006 -> 725457.8245, so the
        value = float(f"{value:.15g}")  # chart part and the workbook hold the same number
    return value


def _key(record: Mapping[str, Any], key: str, what: str, role: str) -> Any:
    if key in record:
        return record[key]
    keys = [str(k) for k in record]
    close = difflib.get_close_matches(key, keys, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise MissingValues(f"{what}: {role} '{key}' is not in the data{hint}. Its columns: {', '.join(keys)}.", [key])


def chart_values(data: Any, *, categories: str | None, series: Sequence[str], series_names: Sequence[str] = (),
                 number_format: str | None = None, what: str = "chart") -> ChartValues:
    """The :class:`ChartValues` of ``data`` (the evaluated ``data`` of a ``[[charts]]`` entry or the first
    argument of the ``chart`` tag).

    Two shapes:

    - a list of records (an aggregate with ``group_by``, ``rows``): ``categories`` names the key of the
      category labels (x values for scatter), ``series`` the keys of the numeric values, one series each,
      named by ``series_names`` (same order) or else by the key;
    - one record (a dict: ``row`` in rows mode, an aggregate without ``group_by``): ``categories`` must be
      empty; the ``series`` keys become the categories of one series, named ``series_names[0]`` or "Value".

    ``what`` names the chart in messages. Raises MissingValues (a key not in the data, with the closest key),
    TemplateError (wrong shape, no series, too many points) and RenderError (a value that is not a number).
    An empty list gives one category ``(no data)`` without values, so the document is still written.
    """
    series = [series] if isinstance(series, str) else list(series or ())
    if not series:
        raise TemplateError(f"{what}: no series given; name at least one numeric column, e.g. series = [\"Sales\"].")
    names = list(series_names or ())
    if len(names) > len(series):
        raise TemplateError(f"{what}: {len(names)} series names for {len(series)} series.")
    fmt = number_format or "General"
    if isinstance(data, Mapping):
        if categories:
            raise TemplateError(f"{what}: its data is one record, so it has no '{categories}' per category; leave "
                                "out categories (the series columns become the categories) or bind a list such as "
                                "an aggregate with group_by.")
        values = tuple(_number(_key(data, s, what, "series"), what, s, s) for s in series)
        name = names[0] if names else "Value"
        return ChartValues(tuple(series), (Series(str(name), values),), fmt)
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise TemplateError(f"{what}: its data is {type(data).__name__}, not a list of records or one record. "
                            "Bind an aggregate (its name), rows, or row.")
    if not categories:
        raise TemplateError(f"{what}: categories is missing: name the column whose values label the bars, slices or "
                            "points (e.g. categories = \"Region\").")
    records = list(data)
    bound = limits.current()
    if len(records) > bound.chart_points:
        raise TemplateError(f"{what}: {len(records):,} points is more than a chart can show "
                            f"({limits.describe('chart_points', bound)}). Bind an aggregate with group_by, or a "
                            "limit, instead of the rows.")
    for i, r in enumerate(records):
        if not isinstance(r, Mapping):
            raise TemplateError(f"{what}: item {i + 1} of its data is {type(r).__name__}, not a record.")
    if not records:
        return ChartValues((NO_DATA_LABEL,), tuple(Series(str(names[i]) if i < len(names) else s, (None,))
                                                   for i, s in enumerate(series)), fmt)
    cats = tuple(_label(_key(r, categories, what, "categories")) for r in records)
    out = []
    for i, s in enumerate(series):
        vals = tuple(_number(_key(r, s, what, "series"), what, s, c) for r, c in zip(records, cats, strict=True))
        out.append(Series(str(names[i]) if i < len(names) else s, vals))
    return ChartValues(cats, tuple(out), fmt)


# ---------------------------------------------------------------------------------------------------------
# python-pptx glue


def _xl_type(kind: str, stacked: Any = False):
    from pptx.enum.chart import XL_CHART_TYPE as T

    grouping = {False: "", True: "_STACKED", "percent": "_STACKED_100"}.get(stacked, None)
    if grouping is None:
        raise TemplateError(f"stacked must be true, false or \"percent\", not {stacked!r}.")
    table = {
        "bar": "BAR_CLUSTERED" if not grouping else "BAR" + grouping,
        "column": "COLUMN_CLUSTERED" if not grouping else "COLUMN" + grouping,
        "line": "LINE_MARKERS" + grouping,
        "area": "AREA" + grouping,
        "pie": "PIE",
        "doughnut": "DOUGHNUT",
        "scatter": "XY_SCATTER",
        "radar": "RADAR_MARKERS",
    }
    if kind not in table:
        raise TemplateError(f"chart kind '{kind}' is not one docgen draws; use one of {', '.join(KINDS)}.")
    return getattr(T, table[kind])


def _fixed_created() -> dt.datetime:
    from docgen.render.reproducible import ZIP_EPOCH, source_date

    return source_date() or dt.datetime(*ZIP_EPOCH)


def _chart_data(values: ChartValues, xy: bool):
    """python-pptx chart data for ``values``: XyChartData for scatter charts, else CategoryChartData; its
    workbook writer stamps the fixed creation time (byte-identical output)."""
    from pptx.chart.data import CategoryChartData, XyChartData
    from pptx.chart.xlsx import CategoryWorkbookWriter, XyWorkbookWriter

    def fixed(writer_cls):
        class Writer(writer_cls):
            def _open_worksheet(self, xlsx_file):  # noqa: D102 - XlsxWriter hook
                from contextlib import contextmanager

                from xlsxwriter import Workbook

                @contextmanager
                def opened():
                    workbook = Workbook(xlsx_file, {"in_memory": True})
                    workbook.set_properties({"created": _fixed_created()})
                    worksheet = workbook.add_worksheet()
                    yield workbook, worksheet
                    workbook.close()

                return opened()

        return Writer

    if xy:
        for c in values.categories:
            if isinstance(c, bool) or not isinstance(c, int | float):
                raise RenderError(f"a scatter chart needs numeric x values; '{c}' is not a number. Bind a numeric "
                                  "column as categories, or use a line or column chart.")

        class Xy(XyChartData):
            @property
            def _workbook_writer(self):
                return fixed(XyWorkbookWriter)(self)

        data = Xy(number_format=values.number_format)
        for s in values.series:
            series = data.add_series(s.name, number_format=values.number_format)
            for x, y in zip(values.categories, s.values, strict=True):
                series.add_data_point(x, y)
        return data

    class Category(CategoryChartData):
        @property
        def _workbook_writer(self):
            return fixed(CategoryWorkbookWriter)(self)

    data = Category(number_format=values.number_format)
    data.categories = list(values.categories)
    for s in values.series:
        data.add_series(s.name, list(s.values), number_format=values.number_format)
    return data


def _is_xy(chart_type) -> bool:
    return "XY_" in chart_type.name or "BUBBLE" in chart_type.name


def _serialize(element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", standalone=True)


# ---------------------------------------------------------------------------------------------------------
# rewriting a template's chart


def _accent(idx: int) -> str:
    return f"accent{idx % 6 + 1}"


def _recolor(element, idx: int) -> None:
    for clr in element.iter(f"{{{NS_A}}}schemeClr"):
        if (clr.get("val") or "").startswith("accent"):
            clr.set("val", _accent(idx))


def _drop_unique_ids(element) -> None:
    for uid in list(element.iter(f"{{{NS_C16}}}uniqueId")):
        ext = uid.getparent()
        if ext is not None and ext.getparent() is not None:
            ext_list = ext.getparent()
            ext_list.remove(ext)
            if len(ext_list) == 0 and ext_list.getparent() is not None:
                ext_list.getparent().remove(ext_list)


def _fit_points(ser, count: int) -> None:
    """Trim (or extend, cloning the last one with the next accent colour) the per-point formatting of ``ser``
    (``c:dPt``) to ``count`` points, and drop per-point labels (``c:dLbls/c:dLbl``) beyond it."""
    dpts = ser.findall(f"{{{NS_C}}}dPt")
    for d in dpts:
        if int(d.find(f"{{{NS_C}}}idx").get("val")) >= count:
            ser.remove(d)
    dpts = [d for d in dpts if d.getparent() is ser]
    if dpts and len(dpts) < count:
        last = dpts[-1]
        uses_accents = any((c.get("val") or "").startswith("accent") for c in last.iter(f"{{{NS_A}}}schemeClr"))
        for i in range(len(dpts), count):
            new = copy.deepcopy(last)
            new.find(f"{{{NS_C}}}idx").set("val", str(i))
            if uses_accents:
                _recolor(new, i)
            _drop_unique_ids(new)
            last.addnext(new)
            last = new
    labels = ser.find(f"{{{NS_C}}}dLbls")
    if labels is not None:
        for lbl in labels.findall(f"{{{NS_C}}}dLbl"):
            if int(lbl.find(f"{{{NS_C}}}idx").get("val")) >= count:
                labels.remove(lbl)


def title_text(chart_space) -> str:
    """The visible text of a chart part's own title ("" when it has none or takes it from a cell)."""
    title = chart_space.find(f"{{{NS_C}}}chart/{{{NS_C}}}title")
    if title is None:
        return ""
    paras = title.findall(f".//{{{NS_A}}}p")
    return "\n".join("".join(t.text or "" for t in p.iter(f"{{{NS_A}}}t")) for p in paras).strip()


def set_title(chart_space, text: str) -> None:
    """Replace the chart's title text with ``text`` keeping the first run's formatting; add a title (14 pt, like
    Word's) when the chart has none. An empty ``text`` removes the title."""
    chart = chart_space.find(f"{{{NS_C}}}chart")
    title = chart.find(f"{{{NS_C}}}title")
    deleted = chart.find(f"{{{NS_C}}}autoTitleDeleted")
    if not text:
        if title is not None:
            chart.remove(title)
        if deleted is None:
            deleted = etree.SubElement(chart, f"{{{NS_C}}}autoTitleDeleted")
            chart.insert(0, deleted)
        deleted.set("val", "1")
        return
    rich = title.find(f"{{{NS_C}}}tx/{{{NS_C}}}rich") if title is not None else None
    if rich is None:
        if title is not None:
            chart.remove(title)
        title = etree.fromstring(
            f'<c:title xmlns:c="{NS_C}" xmlns:a="{NS_A}"><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr>'
            '<a:defRPr sz="1400" b="0"/></a:pPr><a:r><a:rPr lang="en-US" sz="1400" b="0"/><a:t/></a:r></a:p>'
            '</c:rich></c:tx><c:overlay val="0"/></c:title>')
        chart.insert(0, title)
        rich = title.find(f"{{{NS_C}}}tx/{{{NS_C}}}rich")
    paras = rich.findall(f"{{{NS_A}}}p")
    first = paras[0]
    for p in paras[1:]:
        rich.remove(p)
    runs = first.findall(f"{{{NS_A}}}r") + first.findall(f"{{{NS_A}}}fld")
    keep = runs[0] if runs else None
    for r in runs[1:]:
        first.remove(r)
    if keep is None or keep.tag != f"{{{NS_A}}}r":
        if keep is not None:
            first.remove(keep)
        keep = etree.SubElement(first, f"{{{NS_A}}}r")
        etree.SubElement(keep, f"{{{NS_A}}}t")
        end = first.find(f"{{{NS_A}}}endParaRPr")
        if end is not None:
            end.addprevious(keep)
    t = keep.find(f"{{{NS_A}}}t")
    if t is None:
        t = etree.SubElement(keep, f"{{{NS_A}}}t")
    t.text = text
    if deleted is not None:
        deleted.set("val", "0")


def rewrite_chart_xml(blob: bytes, values: ChartValues, *, title: str | None = None) -> tuple[bytes, bytes]:
    """Rewrite a chart part's XML (``blob``) to show ``values``, keeping its formatting; returns (chart part
    XML, embedded workbook .xlsx) - see the module docstring for the rules. ``title`` (when not None) replaces
    the chart's title text. Raises RenderError for a chart kind python-pptx cannot rewrite (bubble, stock,
    surface, 3-D charts other than pie) or a scatter chart given text x values."""
    from pptx.chart.plot import PlotFactory, PlotTypeInspector
    from pptx.chart.xmlwriter import SeriesXmlRewriterFactory
    from pptx.oxml import parse_xml

    chart_space = parse_xml(blob)
    plot_area = chart_space.plotArea
    if not plot_area.xCharts:
        raise RenderError("the chart has no plot docgen can fill (it may be a picture of a chart, not a chart).")
    try:
        chart_type = PlotTypeInspector.chart_type(PlotFactory(plot_area.xCharts[0], None))
    except (NotImplementedError, KeyError) as exc:
        kind = etree.QName(plot_area.xCharts[0]).localname
        raise RenderError(f"its kind ({kind}) is not one docgen can fill; use a bar, column, line, area, pie, "
                          "doughnut, radar or scatter chart.") from exc
    if "BUBBLE" in chart_type.name:
        raise RenderError("bubble charts are not supported (they need a third value per point); use a scatter "
                          "chart.")
    data = _chart_data(values, _is_xy(chart_type))
    before = len(plot_area.sers)
    SeriesXmlRewriterFactory(chart_type, data).replace_series_data(chart_space)
    for i, ser in enumerate(plot_area.sers):
        if i >= before:  # a clone of the last series: Word's colour for a new series, no duplicate unique id
            sp = ser.find(f"{{{NS_C}}}spPr")
            marker = ser.find(f"{{{NS_C}}}marker")
            for el in (sp, marker):
                if el is not None:
                    _recolor(el, ser.idx.val)
            _drop_unique_ids(ser)
        _fit_points(ser, len(values.categories))
    if title is not None:
        set_title(chart_space, title)
    if values.number_format != "General":
        _value_axis_format(plot_area, values.number_format, xy=_is_xy(chart_type))
    return _serialize(chart_space), data.xlsx_blob


def _value_axis_format(plot_area, number_format: str, *, xy: bool) -> None:
    """Show the value axis' labels in ``number_format`` (set explicitly: LibreOffice does not follow a
    source-linked format). In a scatter chart only the vertical value axis, not the x axis."""
    for ax in plot_area.findall(f"{{{NS_C}}}valAx"):
        pos = ax.find(f"{{{NS_C}}}axPos")
        if xy and pos is not None and pos.get("val") in ("b", "t"):
            continue
        fmt = ax.find(f"{{{NS_C}}}numFmt")
        if fmt is None:
            fmt = etree.Element(f"{{{NS_C}}}numFmt")
            # CT_ValAx order: axId, scaling, delete, axPos, majorGridlines?, minorGridlines?, title?, numFmt?...
            anchor = None
            for tag in ("title", "minorGridlines", "majorGridlines", "axPos"):
                anchor = ax.find(f"{{{NS_C}}}{tag}")
                if anchor is not None:
                    break
            if anchor is not None:
                anchor.addnext(fmt)
            else:
                ax.append(fmt)
        fmt.set("formatCode", number_format)
        fmt.set("sourceLinked", "0")


def _workbook_part(chart_part) -> Any:
    """The embedded workbook part of ``chart_part``, or None (no workbook, or a link to an external file)."""
    root = etree.fromstring(chart_part.blob)
    ext = root.find(f"{{{NS_C}}}externalData")
    if ext is None:
        return None
    rel = chart_part.rels.get(ext.get(f"{{{NS_R}}}id"))
    if rel is None or rel.is_external:
        return None
    return rel.target_part


def _attach_workbook(chart_part, xml: bytes, xlsx: bytes) -> bytes:
    """Store ``xlsx`` as ``chart_part``'s embedded workbook (replacing the old one's bytes, or adding a new
    part and ``c:externalData``); returns the chart XML to store (changed when the reference changed)."""
    existing = _workbook_part(chart_part)
    if existing is not None:
        existing._blob = xlsx
        return xml
    package = chart_part.package
    part = Part(package.next_partname("/word/embeddings/Microsoft_Excel_Worksheet%d.xlsx"), CT_XLSX, xlsx, package)
    rid = chart_part.relate_to(part, RT.PACKAGE)
    root = etree.fromstring(xml)
    ext = root.find(f"{{{NS_C}}}externalData")
    if ext is None:
        ext = etree.SubElement(root, f"{{{NS_C}}}externalData")
        etree.SubElement(ext, f"{{{NS_C}}}autoUpdate").set("val", "0")
        # CT_ChartSpace order: ... c:printSettings?, c:userShapes?, c:extLst?; externalData comes before them
        for tag in ("printSettings", "userShapes", "extLst"):
            later = root.find(f"{{{NS_C}}}{tag}")
            if later is not None:
                later.addprevious(ext)
                break
    ext.set(f"{{{NS_R}}}id", rid)
    return _serialize(root)


def fill_chart_part(chart_part, values: ChartValues, *, title: str | None = None) -> None:
    """Rewrite ``chart_part`` (a python-docx part of a Word chart) and its embedded workbook to show
    ``values`` (:func:`rewrite_chart_xml`)."""
    xml, xlsx = rewrite_chart_xml(chart_part.blob, values, title=title)
    chart_part._blob = _attach_workbook(chart_part, xml, xlsx)


# ---------------------------------------------------------------------------------------------------------
# finding charts in a document


def _story_parts(document) -> list[tuple[Any, Any]]:
    """(part, root element) of the body, then each header and footer, in the order :mod:`.parts` uses."""
    from docgen.render.parts import part_element, tag_parts

    out = []
    for ref in tag_parts(document):
        if ref.kind == "body":
            out.append((ref.part, document.element))
        elif ref.kind in ("header", "footer"):
            out.append((ref.part, part_element(ref.part)))
    return out


def find_charts(document) -> list[ChartRef]:
    """Every chart of a python-docx ``document``, in order: the body, then headers and footers. Charts of a
    drawing canvas or group are included; chart parts that no drawing shows are not."""
    refs = []
    for host, root in _story_parts(document):
        for chart in root.iter(f"{{{NS_C}}}chart"):
            rid = chart.get(f"{{{NS_R}}}id")
            rel = host.rels.get(rid) if rid else None
            if rel is None or rel.is_external:
                continue
            drawing = chart
            while drawing is not None and drawing.tag not in (f"{{{NS_WP}}}inline", f"{{{NS_WP}}}anchor"):
                drawing = drawing.getparent()
            doc_pr = drawing.find(f"{{{NS_WP}}}docPr") if drawing is not None else None
            get = (lambda k: doc_pr.get(k) or "") if doc_pr is not None else (lambda k: "")
            part = rel.target_part
            try:
                title = title_text(etree.fromstring(part.blob))
            except etree.XMLSyntaxError:
                title = ""
            refs.append(ChartRef(len(refs) + 1, get("name"), get("title"), get("descr"), title, part, host,
                                 drawing))
    return refs


def select_chart(charts: Sequence[ChartRef], spec: ChartSpec, what: str) -> ChartRef:
    """The chart ``spec`` names (by ``index`` when given, else by ``name``). Raises TemplateError listing the
    document's charts when none (or more than one) matches."""
    listing = "; ".join(c.describe() for c in charts) or "none"
    if spec.index is not None:
        if not 1 <= spec.index <= len(charts):
            raise TemplateError(f"{what}: template.docx has no chart {spec.index}; its charts: {listing}.")
        found = charts[spec.index - 1]
        if spec.name and not found.matches(spec.name):
            raise TemplateError(f"{what}: chart {spec.index} is not named '{spec.name}'; its charts: {listing}.")
        return found
    hits = [c for c in charts if c.matches(spec.name)]
    if not hits:
        raise TemplateError(f"{what}: template.docx has no chart named '{spec.name}' (name, alt text or title); "
                            f"its charts: {listing}. In Word, right-click the chart > View Alt Text to name it, "
                            "or give index = N.")
    if len({id(h.part) for h in hits}) > 1:
        raise TemplateError(f"{what}: several charts are named '{spec.name}' ({'; '.join(h.describe() for h in hits)}"
                            "); give each a different alt text, or add index = N.")
    return hits[0]


def describe_spec(spec: ChartSpec, position: int | None = None) -> str:
    """How messages name a ``[[charts]]`` entry: ``chart "Sales by region" ([[charts]] 1 in docgen.toml)``."""
    label = spec.name or f"number {spec.index}"
    where = f" ([[charts]] {position} in docgen.toml)" if position is not None else ""
    return f'chart "{label}"{where}'


def evaluate(expression: str, context: Mapping[str, Any], env, what: str, key: str) -> Any:
    """Evaluate a manifest expression (``data = "by_region"``, ``"rows[:12]"``) in the document's context with
    docgen's sandboxed environment. Raises MissingValues naming the chart when it names an unknown value."""
    import jinja2

    def missing(name: str) -> MissingValues:
        known = sorted(k for k in context if not k.startswith("_"))
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return MissingValues(f"{what}: {key} = \"{expression}\" names '{name}', which this document does not have"
                             f"{hint}. Use an aggregate's name, rows or row; known names: {', '.join(known)}.", [name])

    try:
        value = env.compile_expression(expression, undefined_to_none=False)(**context)
    except jinja2.UndefinedError as exc:
        m = re.search(r"'([^']+)' is undefined|has no (?:attribute|element) '?([^']+?)'?$", str(exc))
        raise missing((m.group(1) or m.group(2)) if m else expression) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{what}: {key} = \"{expression}\" is not a valid expression: {exc}.") from exc
    if isinstance(value, jinja2.Undefined):
        raise missing(getattr(value, "_undefined_name", None) or expression)
    return value


def bind_charts(document, specs: Sequence[ChartSpec], context: Mapping[str, Any], env) -> list[ChartRef]:
    """Fill the charts of a rendered ``document`` that ``specs`` (``[[charts]]``) bind, from ``context`` (the
    document's Jinja context: aggregates, rows or row, fields). ``env`` is the Jinja environment used for the
    ``data`` expression and the ``title`` text. Returns the charts filled, in ``specs`` order.

    Raises TemplateError (no such chart, bad expression), MissingValues (unknown value or column) and
    RenderError (a value that is not a number, a chart kind that cannot be filled), each naming the
    ``[[charts]]`` entry and the chart.
    """
    if not specs:
        return []
    charts = find_charts(document)
    done = []
    for position, spec in enumerate(specs, 1):
        what = describe_spec(spec, position)
        ref = select_chart(charts, spec, what)
        data = evaluate(spec.data, context, env, what, "data")
        values = chart_values(data, categories=spec.categories, series=spec.series, series_names=spec.series_names,
                              number_format=spec.number_format, what=what)
        title = None
        if spec.title is not None:
            import jinja2

            try:
                title = compiled(env, spec.title).render(**context)
            except jinja2.TemplateError as exc:
                raise TemplateError(f"{what}: its title \"{spec.title}\" does not render: {exc}.") from exc
        try:
            fill_chart_part(ref.part, values, title=title)
        except RenderError as exc:
            raise RenderError(f"{what}, {ref.describe()} in template.docx: {exc}") from exc
        done.append(ref)
    return done


def chart_problems(document, specs: Sequence[ChartSpec]) -> list[str]:
    """Problems of ``[[charts]]`` entries that template.docx alone shows (no such chart, several of that name),
    for ``docgen templates check``; data problems show only when a document is rendered. ``document``: a
    python-docx Document or the path of a .docx."""
    if not specs:
        return []
    if isinstance(document, str | Path):
        import docx

        document = docx.Document(str(document))
    charts = find_charts(document)
    problems = []
    for position, spec in enumerate(specs, 1):
        try:
            select_chart(charts, spec, describe_spec(spec, position))
        except TemplateError as exc:
            problems.append(str(exc))
    return problems


# ---------------------------------------------------------------------------------------------------------
# new charts


def chart_xml(values: ChartValues, kind: str = "column", *, stacked: Any = False, title: str = "",
              legend: bool | None = None) -> tuple[bytes, bytes]:
    """A new chart part's XML and its embedded workbook (.xlsx) for ``values`` drawn as ``kind``
    (:data:`KINDS`) with ``stacked`` (:data:`STACKING`); ``title`` ("" = none); ``legend`` defaults to on for
    several series and for pie/doughnut charts. Raises TemplateError for an unknown kind or stacking."""
    from pptx.chart.chart import Chart
    from pptx.chart.xmlwriter import ChartXmlWriter
    from pptx.enum.chart import XL_LEGEND_POSITION
    from pptx.oxml import parse_xml
    from pptx.util import Pt

    chart_type = _xl_type(kind, stacked)
    data = _chart_data(values, _is_xy(chart_type))
    chart_space = parse_xml(ChartXmlWriter(chart_type, data).xml.encode("utf-8"))
    chart = Chart(chart_space, None)
    chart.font.size = Pt(10)
    chart.font.name = "+mn-lt"  # the document theme's body font, as Word's own charts use
    _theme_colors(chart, kind)
    if legend is None:
        legend = len(values.series) > 1 or kind in ("pie", "doughnut")
    chart.has_legend = bool(legend)
    if legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    if kind in ("pie", "doughnut"):
        plot = chart.plots[0]
        plot.has_data_labels = True
        plot.data_labels.number_format = "0%"
        plot.data_labels.number_format_is_linked = False
        plot.data_labels.show_percentage = True
        plot.data_labels.show_value = False
    elif kind not in ("scatter",) and values.number_format != "General":
        axis = chart.value_axis
        axis.tick_labels.number_format = values.number_format
        axis.tick_labels.number_format_is_linked = False
    if kind == "bar":  # the first category on top, as in the table beside it (Word's default is the bottom)
        chart.category_axis.reverse_order = True
        for crosses in chart_space.iterfind(f".//{{{NS_C}}}valAx/{{{NS_C}}}crosses"):
            crosses.set("val", "max")  # ...with the value axis at the bottom: it crosses at the last category
    set_title(chart_space, title)
    return _serialize(chart_space), data.xlsx_blob


def _theme_colors(chart, kind: str) -> None:
    """Give each series (each slice of a pie) the document theme's accent colours in turn, accent1..accent6,
    as Word does for a chart it inserts; without them every office suite picks its own palette."""
    from pptx.enum.dml import MSO_THEME_COLOR

    accents = [getattr(MSO_THEME_COLOR, f"ACCENT_{i}") for i in range(1, 7)]
    plot = chart.plots[0]
    if kind in ("pie", "doughnut"):
        for series in plot.series:
            for i in range(len(series.values)):
                fill = series.points[i].format.fill
                fill.solid()
                fill.fore_color.theme_color = accents[i % 6]
        return
    for i, series in enumerate(plot.series):
        color = accents[i % 6]
        if kind in ("line", "radar", "scatter"):
            series.format.line.color.theme_color = color
            if kind == "scatter":
                series.format.line.fill.background()  # markers only, no connecting line
            marker = series.marker
            marker.format.fill.solid()
            marker.format.fill.fore_color.theme_color = color
            marker.format.line.color.theme_color = color
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.theme_color = color


def add_chart_part(host_part, xml: bytes, xlsx: bytes) -> str:
    """Add a chart part (with its embedded workbook) related to ``host_part`` (the body, a header or a footer);
    returns the relationship id the drawing's ``c:chart r:id`` uses."""
    package = host_part.package
    chart_part = Part(package.next_partname("/word/charts/chart%d.xml"), CT_CHART, xml, package)
    chart_part._blob = _attach_workbook(chart_part, xml, xlsx)
    return host_part.relate_to(chart_part, RT.CHART)


def chart_inline_xml(rid: str, cx: int, cy: int, shape_id: int, name: str, alt_text: str) -> str:
    """The ``wp:inline`` drawing of a chart: ``cx``/``cy`` in EMU, alt text as the description."""
    from xml.sax.saxutils import quoteattr

    return (f'<wp:inline distT="0" distB="0" distL="0" distR="0" xmlns:wp="{NS_WP}">'
            f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
            f'<wp:docPr id="{shape_id}" name={quoteattr(name)} descr={quoteattr(alt_text)}/>'
            '<wp:cNvGraphicFramePr/>'
            f'<a:graphic xmlns:a="{NS_A}"><a:graphicData uri="{NS_C}">'
            f'<c:chart xmlns:c="{NS_C}" xmlns:r="{NS_R}" r:id="{rid}"/></a:graphicData></a:graphic></wp:inline>')


def insert_chart(paragraph, values: ChartValues, kind: str = "column", *, stacked: Any = False, title: str = "",
                 alt_text: str | None = None, width_cm: float = 15.0, height_cm: float = 7.5) -> None:
    """Append a native chart of ``values`` to a python-docx ``paragraph`` (of the body), e.g. to build a
    template with a placeholder chart from a script; ``alt_text`` (default: the title) is what ``[[charts]]``
    ``name`` finds it by."""
    from docx.oxml import parse_xml

    part = paragraph.part
    xml, xlsx = chart_xml(values, kind, stacked=stacked, title=title)
    rid = add_chart_part(part, xml, xlsx)
    shape_id = 1 + max([int(i) for i in part.element.xpath("//@id") if str(i).isdigit()] or [0])
    inline = chart_inline_xml(rid, int(width_cm * 360000), int(height_cm * 360000), shape_id, f"Chart {shape_id}",
                              title if alt_text is None else alt_text)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraph._p.append(parse_xml(f'<w:r xmlns:w="{w}"><w:drawing>{inline}</w:drawing></w:r>'))


# ---------------------------------------------------------------------------------------------------------
# the picture fallback


def chart_picture(values: ChartValues, kind: str = "column", *, stacked: Any = False, title: str = "",
                  width_in: float = 6.0, height_in: float = 3.5, dpi: int = 300) -> bytes:
    """A PNG of the chart (``width_in`` x ``height_in`` inches at ``dpi``; 300 is print resolution) drawn by
    matplotlib's Agg renderer in Office's default colours. Raises TemplateError for an unknown kind."""
    _xl_type(kind, stacked)  # same validation as the native chart
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    labels = [c.strftime("%Y-%m-%d") if isinstance(c, dt.date) else str(c) for c in values.categories]
    series = [[float("nan") if v is None else v for v in s.values] for s in values.series]
    colors = [OFFICE_COLORS[i % len(OFFICE_COLORS)] for i in range(max(len(series), len(labels)))]
    positions = list(range(len(labels)))
    if stacked == "percent" and kind not in ("pie", "doughnut", "scatter"):
        totals = [sum(abs(s[i]) for s in series if s[i] == s[i]) or 1 for i in positions]
        series = [[v / t for v, t in zip(s, totals, strict=True)] for s in series]
    if kind in ("pie", "doughnut"):
        vals = [0 if v != v else max(v, 0) for v in series[0]]
        wedge = {"width": 0.45} if kind == "doughnut" else {}
        ax.pie(vals, labels=labels, colors=colors[: len(vals)], autopct="%1.0f%%", startangle=90,
               counterclock=False, wedgeprops=wedge, textprops={"fontsize": 8})
        ax.set_aspect("equal")
    elif kind in ("bar", "column"):
        n = len(series)
        width = 0.8 if stacked else 0.8 / n
        bottoms = [0.0] * len(labels)
        for i, (s, vals) in enumerate(zip(values.series, series, strict=True)):
            shift = list(positions) if stacked else [p - 0.4 + width * (i + 0.5) for p in positions]
            clean = [0 if v != v else v for v in vals]
            if kind == "bar":
                ax.barh(shift, clean, height=width, left=bottoms if stacked else None, label=s.name, color=colors[i])
            else:
                ax.bar(shift, clean, width=width, bottom=bottoms if stacked else None, label=s.name, color=colors[i])
            if stacked:
                bottoms = [b + v for b, v in zip(bottoms, clean, strict=True)]
        if kind == "bar":  # the first category at the bottom, as Word draws a bar chart
            ax.set_yticks(positions, labels)
        else:
            ax.set_xticks(positions, labels)
    elif kind == "area":
        clean = [[0 if v != v else v for v in s] for s in series]
        if stacked:
            ax.stackplot(positions, *clean, labels=[s.name for s in values.series], colors=colors[: len(clean)])
        else:
            for i, (s, vals) in enumerate(zip(values.series, clean, strict=True)):
                ax.fill_between(positions, vals, alpha=0.6, label=s.name, color=colors[i])
        ax.set_xticks(positions, labels)
    elif kind == "scatter":
        for i, (s, vals) in enumerate(zip(values.series, series, strict=True)):
            ax.scatter(values.categories, vals, label=s.name, color=colors[i], s=14)
    else:  # line, radar (drawn as lines)
        bottoms = [0.0] * len(labels)
        for i, (s, vals) in enumerate(zip(values.series, series, strict=True)):
            shown = [b + (0 if v != v else v) for b, v in zip(bottoms, vals, strict=True)] if stacked else vals
            ax.plot(positions, shown, marker="o", markersize=3, label=s.name, color=colors[i])
            if stacked:
                bottoms = shown
        ax.set_xticks(positions, labels)
    if kind not in ("pie", "doughnut"):
        ax.grid(axis="x" if kind == "bar" else "y", color="#D9D9D9", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fmt = _tick_formatter(values.number_format, percent=stacked == "percent")
        if fmt is not None:
            (ax.xaxis if kind == "bar" else ax.yaxis).set_major_formatter(FuncFormatter(fmt))
        ax.tick_params(labelsize=8)
        if len(labels) > 6 and kind not in ("bar", "scatter"):
            for lbl in ax.get_xticklabels():
                lbl.set_rotation(30)
                lbl.set_horizontalalignment("right")
    if title:
        ax.set_title(title, fontsize=11)
    if len(values.series) > 1:
        ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12),
                  ncol=min(len(values.series), 4))
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()


_KIND_OF_PLOT = {"barChart": "column", "bar3DChart": "column", "lineChart": "line", "line3DChart": "line",
                 "areaChart": "area", "area3DChart": "area", "pieChart": "pie", "pie3DChart": "pie",
                 "ofPieChart": "pie", "doughnutChart": "doughnut", "scatterChart": "scatter", "radarChart": "radar",
                 "bubbleChart": "scatter"}


def chart_pictures(source: Path | str | Any, *, dpi: int = 150) -> list[bytes]:
    """A PNG of every chart of a written .docx (:func:`read_charts` order), drawn from the values the chart
    part caches - what a preview can show where no office suite is installed. Sizes follow the charts'
    drawings; ``dpi`` 150 is plenty for a screen."""
    if isinstance(source, str | Path):
        import docx

        source = docx.Document(str(source))
    sizes = []
    for ref in find_charts(source):
        extent = ref.drawing.find(f"{{{NS_WP}}}extent") if ref.drawing is not None else None
        sizes.append((int(extent.get("cx")), int(extent.get("cy"))) if extent is not None else (5486400, 3200400))
    out = []
    for chart, (cx, cy) in zip(read_charts(source), sizes, strict=True):
        kind = _KIND_OF_PLOT.get(chart.kinds[0] if chart.kinds else "", "column")
        if kind == "column" and chart.bar_dir == "bar":
            kind = "bar"
        stacked = {"stacked": True, "percentStacked": "percent"}.get(chart.grouping, False)
        n = len(chart.categories)
        series = tuple(Series(s.name, tuple((list(s.values) + [None] * n)[:n])) for s in chart.series)
        categories = tuple(chart.categories)
        if kind == "scatter":
            categories = tuple(_float(c) or 0.0 for c in categories)
        values = ChartValues(categories, series, (chart.series[0].format_code if chart.series else "") or "General")
        out.append(chart_picture(values, kind, stacked=stacked, title=chart.title, width_in=cx / 914400,
                                 height_in=cy / 914400, dpi=dpi))
    return out


def _tick_formatter(number_format: str, *, percent: bool = False):
    if percent:
        return lambda v, _pos: f"{v * 100:.0f}%"
    fmt = number_format or "General"
    if fmt == "General":
        return lambda v, _pos: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"
    decimals = len(fmt.split(".")[1].rstrip("%").replace('"', "")) if "." in fmt else 0
    if fmt.endswith("%"):
        return lambda v, _pos: f"{v * 100:,.{decimals}f}%"
    symbol = ""
    m = re.match(r'^"([^"]+)"|^\[\$([^\]-]+)', fmt)
    if m:
        symbol = m.group(1) or m.group(2)
    return lambda v, _pos: f"{'-' if v < 0 else ''}{symbol}{abs(v):,.{decimals}f}"


# ---------------------------------------------------------------------------------------------------------
# read-back


@dataclass(frozen=True)
class SeriesReadBack:
    """One series as written: ``name`` and ``values`` from the chart XML's caches, ``workbook_name`` and
    ``workbook_values`` from the embedded workbook cells the series' formulas point at (None when no
    workbook), ``format_code`` of the value cache."""

    name: str
    values: tuple[float | None, ...]
    categories: tuple[str, ...]
    workbook_name: str | None = None
    workbook_values: tuple[Any, ...] | None = None
    workbook_categories: tuple[Any, ...] | None = None
    format_code: str = ""


@dataclass(frozen=True)
class ChartReadBack:
    """A chart of a written .docx: where it is (``index``, drawing ``name``, ``alt_text``), its ``kinds``
    (plot elements: "barChart", "pieChart"...), ``bar_dir`` ("bar"/"col"/""), ``grouping``, ``title`` and
    ``series``; ``categories`` are the first series' category labels as cached."""

    index: int
    name: str
    alt_text: str
    title: str
    kinds: tuple[str, ...]
    bar_dir: str
    grouping: str
    series: tuple[SeriesReadBack, ...] = field(default_factory=tuple)
    part_name: str = ""

    @property
    def categories(self) -> tuple[str, ...]:
        """The first series' cached category labels."""
        return self.series[0].categories if self.series else ()


def _cache_points(element) -> list[str | None]:
    if element is None:
        return []
    cache = None
    for tag in ("strRef/c:strCache", "numRef/c:numCache", "strLit", "numLit", "multiLvlStrRef/c:multiLvlStrCache"):
        cache = element.find("c:" + tag, _NS)
        if cache is not None:
            break
    if cache is None:
        return []
    count_el = cache.find("c:ptCount", _NS)
    count = int(count_el.get("val")) if count_el is not None else 0
    out: list[str | None] = [None] * count
    for pt in cache.findall("c:pt", _NS):
        i = int(pt.get("idx"))
        v = pt.find("c:v", _NS)
        if 0 <= i < count:
            out[i] = v.text if v is not None else None
    return out


def _ref_cells(sheet_values: Mapping[str, Any], formula: str | None) -> tuple[Any, ...] | None:
    if not formula:
        return None
    m = re.fullmatch(r"(?:'?[^!]*'?!)?\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", formula.strip())
    if not m:
        return None
    from openpyxl.utils import column_index_from_string, get_column_letter

    c1, r1 = column_index_from_string(m.group(1)), int(m.group(2))
    c2 = column_index_from_string(m.group(3)) if m.group(3) else c1
    r2 = int(m.group(4)) if m.group(4) else r1
    return tuple(sheet_values.get(f"{get_column_letter(c)}{r}") for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))


def _sheet_values(xlsx: bytes | None) -> dict[str, Any] | None:
    if not xlsx:
        return None
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(xlsx), data_only=True)
    ws = wb.worksheets[0]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


def _float(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def read_charts(source: Path | str | Any) -> list[ChartReadBack]:
    """Every chart of a .docx (a path, or an open python-docx Document) as :class:`ChartReadBack`, in
    :func:`find_charts` order, with the values both from the chart XML and from its embedded workbook."""
    if isinstance(source, str | Path):
        import docx

        source = docx.Document(str(source))
    out = []
    for ref in find_charts(source):
        root = etree.fromstring(ref.part.blob)
        wb_part = _workbook_part(ref.part)
        cells = _sheet_values(wb_part.blob if wb_part is not None else None)
        plot = root.find("c:chart/c:plotArea", _NS)
        kinds = tuple(etree.QName(el).localname for el in plot if etree.QName(el).localname.endswith("Chart"))
        bar_dir = plot.find(".//c:barDir", _NS)
        grouping = plot.find(".//c:grouping", _NS)
        series = []
        for ser in plot.iter(f"{{{NS_C}}}ser"):
            tx = ser.find("c:tx", _NS)
            name_pts = _cache_points(tx)
            cat = ser.find("c:cat", _NS)
            if cat is None:
                cat = ser.find("c:xVal", _NS)
            val = ser.find("c:val", _NS)
            if val is None:
                val = ser.find("c:yVal", _NS)
            fmt = val.find(".//c:formatCode", _NS) if val is not None else None

            def formula(el):
                f = el.find(".//c:f", _NS) if el is not None else None
                return f.text if f is not None else None

            wb_name = wb_vals = wb_cats = None
            if cells is not None:
                name_cells = _ref_cells(cells, formula(tx))
                wb_name = None if not name_cells else name_cells[0]
                wb_vals = _ref_cells(cells, formula(val))
                wb_cats = _ref_cells(cells, formula(cat))
            series.append(SeriesReadBack(
                name=(name_pts[0] if name_pts else "") or "",
                values=tuple(_float(v) for v in _cache_points(val)),
                categories=tuple(v or "" for v in _cache_points(cat)),
                workbook_name=wb_name, workbook_values=wb_vals, workbook_categories=wb_cats,
                format_code=fmt.text if fmt is not None else "",
            ))
        out.append(ChartReadBack(ref.index, ref.name, ref.alt_text, title_text(root), kinds,
                                 bar_dir.get("val") if bar_dir is not None else "",
                                 grouping.get("val") if grouping is not None else "", tuple(series),
                                 str(ref.part.partname)))
    return out


__all__ = [
    "KINDS", "STACKING", "ChartReadBack", "ChartRef", "ChartValues", "Series", "SeriesReadBack",
    "add_chart_part", "bind_charts", "chart_inline_xml", "chart_picture", "chart_pictures", "chart_problems",
    "chart_values", "chart_xml", "fill_chart_part", "find_charts", "insert_chart", "read_charts", "rewrite_chart_xml", "select_chart",
    "set_title", "title_text",
]
