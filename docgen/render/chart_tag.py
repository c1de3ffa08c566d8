"""The ``chart`` function of template.docx: a new native chart where the tag is, with no chart in the template.

::

    {{ chart(by_region, x="Region", y=["Sales", "Profit"], kind="bar", title="Sales by region") }}
    {{p chart(by_sentiment, x="sentiment", y="count", kind="pie", title="Comments by sentiment") }}
    {{ chart(row, y=["Q1", "Q2", "Q3", "Q4"], kind="column", title="Quarterly sales", picture=true) }}

Arguments: the data (a list of records or one record, as for ``[[charts]]``: :func:`.charts.chart_values`);
``x`` the category key; ``y`` one key or a list (one series each); ``kind`` one of :data:`.charts.KINDS`
(default "column"); ``stacked`` false / true / "percent"; ``title`` (also the alt text); ``names`` series
names for the legend; ``number_format`` Excel format of the values; ``width``/``height`` lengths ("15cm",
"8cm" by default); ``legend`` true/false (default: on for several series and for pies); ``picture=true``
asks for a picture instead of a chart.

Where Word cannot hold a chart (in a text box, a footnote or an endnote) the chart becomes a picture drawn
by matplotlib at 300 dpi, with the title as its alt text (:func:`.charts.chart_picture`): footnotes and
endnotes are known while the tag renders; text boxes are found after rendering
(:meth:`ChartTag.replace_unsupported`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree
from markupsafe import Markup

from docgen.render import charts as _charts
from docgen.render.images import EMU_PER_INCH, Drawing, parse_length, picture_run

DEFAULT_WIDTH = "15cm"
DEFAULT_HEIGHT = "7.5cm"
_NOTES = ("footnotes", "endnotes")
_NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass
class _Made:
    host: Any
    rid: str
    values: _charts.ChartValues
    kind: str
    stacked: Any
    title: str
    cx: int
    cy: int
    shape_id: int


class ChartTag:
    """``chart(...)`` bound to the template being rendered (``tpl.current_rendering_part`` is where the chart
    part is related); it records the native charts it added, for :meth:`replace_unsupported`. Its state is in
    underscore attributes, which the sandboxed template cannot reach."""

    def __init__(self, tpl) -> None:
        self._tpl = tpl
        self._made: list[_Made] = []
        self._pictures = 0

    def __call__(self, data: Any, x: str | None = None, y: Any = None, kind: str = "column", *,
                 stacked: Any = False, title: Any = "", names: Any = (), number_format: str | None = None,
                 width: Any = DEFAULT_WIDTH, height: Any = DEFAULT_HEIGHT, legend: bool | None = None,
                 picture: bool = False) -> Markup:
        title = "" if title is None else str(title)
        what = f'the chart tag "{title}"' if title else "a chart tag"
        if isinstance(names, str):
            names = [names]
        values = _charts.chart_values(data, categories=x, series=y if y is not None else (), series_names=names,
                                      number_format=number_format, what=what)
        _charts._xl_type(kind, stacked)  # an unknown kind fails here, naming the kind
        cx = parse_length(width, f"{what}: width") or parse_length(DEFAULT_WIDTH)
        cy = parse_length(height, f"{what}: height") or parse_length(DEFAULT_HEIGHT)
        host = self._tpl.current_rendering_part
        shape_id = 50000 + len(self._made) + self._pictures + 1
        if picture or self._kind_of(host) in _NOTES:
            return Drawing(self._picture(host, values, kind, stacked, title, cx, cy, shape_id))
        xml, xlsx = _charts.chart_xml(values, kind, stacked=stacked, title=title, legend=legend)
        rid = _charts.add_chart_part(host, xml, xlsx)
        self._made.append(_Made(host, rid, values, kind, stacked, title, cx, cy, shape_id))
        name = f"Chart {len(self._made)}"
        return Drawing(f"<w:r><w:drawing>{_charts.chart_inline_xml(rid, cx, cy, shape_id, name, title)}"
                       "</w:drawing></w:r>")

    def _kind_of(self, part) -> str:
        from docgen.render.parts import tag_parts

        for ref in tag_parts(self._tpl.docx):
            if ref.part is part:
                return ref.kind
        return "body"

    def _picture(self, host, values, kind, stacked, title, cx, cy, shape_id) -> str:
        self._pictures += 1
        png = _charts.chart_picture(values, kind, stacked=stacked, title=title, width_in=cx / EMU_PER_INCH,
                                    height_in=cy / EMU_PER_INCH)
        return picture_run(host, png, cx, cy, name=f"Chart picture {self._pictures}",
                           alt_text=title or "Chart", shape_id=shape_id)

    def replace_unsupported(self, document) -> int:
        """After rendering: turn every chart this tag added inside a text box (``w:txbxContent``, where Word
        cannot hold a chart) into its picture. Returns how many were replaced."""
        if not self._made:
            return 0
        from docgen.render.finish import rendered_parts

        count = 0
        for part, element, commit in rendered_parts(document):
            mine = {m.rid: m for m in self._made if m.host is part}
            if not mine:
                continue
            changed = False
            for chart in list(element.iter(f"{{{_charts.NS_C}}}chart")):
                made = mine.get(chart.get(f"{{{_charts.NS_R}}}id"))
                if made is None or not _in_text_box(chart):
                    continue
                run = chart
                while run is not None and run.tag != f"{{{_NS_W}}}r":
                    run = run.getparent()
                if run is None:
                    continue
                xml = self._picture(part, made.values, made.kind, made.stacked, made.title, made.cx, made.cy,
                                    made.shape_id)
                new = etree.fromstring(f'<w:root xmlns:w="{_NS_W}">{xml}</w:root>')[0]
                run.addprevious(new)
                run.getparent().remove(run)
                part.drop_rel(made.rid)
                changed = True
                count += 1
            if changed and commit:
                commit()
        return count


def _in_text_box(element) -> bool:
    node = element.getparent()
    while node is not None:
        if node.tag == f"{{{_NS_W}}}txbxContent":
            return True
        node = node.getparent()
    return False


__all__ = ["ChartTag", "DEFAULT_HEIGHT", "DEFAULT_WIDTH"]
