"""Native Word charts: Word-made template charts re-bound to aggregates ([[charts]]), new charts from the
``chart`` tag, the picture fallback, and what LibreOffice shows of them. Every test reads the written .docx
back: the chart XML's cached values AND the embedded workbook's cells."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest

from docgen.errors import MissingValues, RenderError, TemplateError
from docgen.model import ChartSpec
from docgen.render import read_charts, read_pictures, render_document
from docgen.render import pdf as pdf_mod
from docgen.render.charts import NS_C16, chart_problems, chart_values

HAS_SOFFICE = pdf_mod.find_soffice() is not None and shutil.which("pdftoppm") is not None

BY_REGION = [
    {"Region": "West", "Sales": 725457.82, "Profit": 108418.45, "Quantity": 12266, "count": 3203},
    {"Region": "East", "Sales": 678781.24, "Profit": 91522.78, "Quantity": 10618, "count": 2848},
    {"Region": "Central", "Sales": 501239.89, "Profit": 39706.36, "Quantity": 8780, "count": 2323},
    {"Region": "South", "Sales": 391721.91, "Profit": 46749.43, "Quantity": 6209, "count": 1620},
]
CATEGORIES = ["Furniture", "Office Supplies", "Technology", "Services", "Other", "Misc"]


@pytest.fixture
def charts_dir(realdata) -> Path:
    return realdata / "docx" / "charts"


def assert_matches(chart, records, key, series):
    """The chart's cached categories/values and its workbook cells equal the records, series by series."""
    labels = tuple(r[key] for r in records)
    assert len(chart.series) == len(series)
    for s, name in zip(chart.series, series, strict=True):
        values = tuple(float(r[name]) for r in records)
        assert s.name == name and s.workbook_name == name
        assert s.categories == labels and s.workbook_categories == labels
        assert s.values == pytest.approx(values)
        assert tuple(float(v) for v in s.workbook_values) == pytest.approx(values)


def bind(src: Path, tmp_path: Path, specs, ctx, name="out.docx") -> Path:
    return render_document(src, ctx, {}, tmp_path / name, charts=specs)


# -- binding Word-made charts ([[charts]]) ----------------------------------------------------------------------

def test_word_bar_chart_with_three_series_bound_to_two(charts_dir, tmp_path):
    spec = ChartSpec(data="by_region", name="Chart 1", categories="Region", series=("Sales", "Profit"),
                     number_format='"$"#,##0', title="Sales by region")
    out = bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"by_region": BY_REGION})
    first, second = read_charts(out)
    assert first.title == "Sales by region" and first.kinds == ("barChart",) and first.bar_dir == "bar"
    assert_matches(first, BY_REGION, "Region", ["Sales", "Profit"])
    assert {s.format_code for s in first.series} == {'"$"#,##0'}
    # the other chart was not bound and keeps Word's placeholder data
    assert second.categories == ("Category 1", "Category 2", "Category 3", "Category 4")


def test_two_placeholder_series_bound_to_three(charts_dir, tmp_path):
    """chart-area.docx has 2 series over 5 categories; bind 3 series over 4 regions."""
    src = charts_dir / "chart-area.docx"
    assert len(read_charts(src)[0].series) == 2
    spec = ChartSpec(data="by_region", index=1, categories="Region", series=("Sales", "Profit", "Quantity"))
    out = bind(src, tmp_path, [spec], {"by_region": BY_REGION})
    (chart,) = read_charts(out)
    assert_matches(chart, BY_REGION, "Region", ["Sales", "Profit", "Quantity"])
    xml = zipfile.ZipFile(out).read(chart.part_name.lstrip("/")).decode()
    # the new third series gets the next theme colour, not a copy of the second's, and no duplicate unique id
    sers = re.findall(r"<c:ser>.*?</c:ser>", xml, re.S)
    colors = [re.search(r'schemeClr val="(accent\d)"', s).group(1) for s in sers]
    assert len(set(colors)) == 3
    ids = re.findall(r'uniqueId val="([^"]+)"', xml)
    assert len(ids) == len(set(ids))
    assert NS_C16 in xml or not ids


def test_column_chart_grows_to_four_series_and_six_categories(charts_dir, tmp_path):
    records = [{"Category": c, "Sales": 100.0 * (i + 1), "Profit": 10.0 * i, "Units": i, "Returns": -i}
               for i, c in enumerate(CATEGORIES)]
    spec = ChartSpec(data="cats", name="Chart 2", categories="Category", series=("Sales", "Profit", "Units", "Returns"),
                     series_names=("Sales ($)", "Profit ($)"))
    out = bind(charts_dir / "chart-column.docx", tmp_path, [spec], {"cats": records})
    chart = read_charts(out)[1]
    assert chart.grouping == "stacked" and chart.bar_dir == "col"
    assert [s.name for s in chart.series] == ["Sales ($)", "Profit ($)", "Units", "Returns"]
    assert [s.workbook_name for s in chart.series] == ["Sales ($)", "Profit ($)", "Units", "Returns"]
    assert chart.series[3].values == tuple(float(-i) for i in range(6))
    assert chart.series[3].workbook_values == tuple(-i for i in range(6))
    assert chart.categories == tuple(CATEGORIES) == chart.series[0].workbook_categories


def test_pie_slices_follow_the_category_count(charts_dir, tmp_path):
    """A Word pie has one formatted c:dPt per slice: extra slices get the next accent, surplus ones go."""
    many = [{"c": c, "n": i + 1} for i, c in enumerate(CATEGORIES)]
    few = many[:2]
    specs = [ChartSpec(data="many", index=1, categories="c", series=("n",)),
             ChartSpec(data="few", index=2, categories="c", series=("n",))]
    out = bind(charts_dir / "chart-pie.docx", tmp_path, specs, {"many": many, "few": few})
    pie, doughnut, _pie3d = read_charts(out)
    assert pie.kinds == ("pieChart",) and pie.categories == tuple(CATEGORIES)
    assert pie.series[0].workbook_values == (1, 2, 3, 4, 5, 6)
    assert doughnut.kinds == ("doughnutChart",) and doughnut.series[0].values == (1.0, 2.0)
    z = zipfile.ZipFile(out)
    pie_xml = z.read(pie.part_name.lstrip("/")).decode()
    points = re.findall(r"<c:dPt>.*?</c:dPt>", pie_xml, re.S)
    assert [re.search(r'<c:idx val="(\d+)"', p).group(1) for p in points] == ["0", "1", "2", "3", "4", "5"]
    assert len({re.search(r'schemeClr val="(accent\d)"', p).group(1) for p in points}) == 6
    doughnut_xml = z.read(doughnut.part_name.lstrip("/")).decode()
    assert len(re.findall(r"<c:dPt>", doughnut_xml)) == 2


def test_line_chart_and_number_format(charts_dir, tmp_path):
    months = [{"month": f"2024-{m:02d}", "index": 100 + m * 1.5, "volume": m * 1000} for m in range(1, 13)]
    spec = ChartSpec(data="months", name="chart 1", categories="month", series=("index",), number_format="0.0")
    out = bind(charts_dir / "chart-line.docx", tmp_path, [spec], {"months": months})
    chart = read_charts(out)[0]
    assert chart.kinds == ("lineChart",) and len(chart.categories) == 12
    assert chart.series[0].format_code == "0.0"
    assert_matches(chart, months, "month", ["index"])


def test_scatter_chart_takes_numeric_x_values(charts_dir, tmp_path):
    points = [{"discount": d / 10, "profit": 50 - d * 7.5} for d in range(8)]
    spec = ChartSpec(data="points", name="Chart 1", categories="discount", series=("profit",))
    out = bind(charts_dir / "chart-scatter.docx", tmp_path, [spec], {"points": points})
    chart = read_charts(out)[0]
    assert chart.kinds == ("scatterChart",)
    assert tuple(float(c) for c in chart.categories) == tuple(p["discount"] for p in points)
    assert chart.series[0].workbook_values == tuple(p["profit"] for p in points)
    bad = ChartSpec(data="by_region", name="Chart 1", categories="Region", series=("Sales",))
    with pytest.raises(RenderError, match="scatter chart needs numeric x values; 'West'"):
        bind(charts_dir / "chart-scatter.docx", tmp_path, [bad], {"by_region": BY_REGION}, "bad.docx")
    assert not (tmp_path / "bad.docx").exists()


def test_chart_found_by_alt_text_and_by_title(charts_dir, tmp_path):
    by_alt = ChartSpec(data="by_region", name="{MyChart}", categories="Region", series=("Sales",))
    out = bind(charts_dir / "chart-alt-text.docx", tmp_path, [by_alt], {"by_region": BY_REGION})
    assert read_charts(out)[0].categories == ("West", "East", "Central", "South")
    by_title = ChartSpec(data="by_region", name="column chart title {chart1}", categories="Region", series=("Sales",))
    out = bind(charts_dir / "chart-column.docx", tmp_path, [by_title], {"by_region": BY_REGION}, "t.docx")
    assert read_charts(out)[0].categories == ("West", "East", "Central", "South")


def test_one_record_gives_one_series_over_its_columns(charts_dir, tmp_path):
    row = {"name": "Ana", "Q1": 120.0, "Q2": 135.5, "Q3": None, "Q4": 160.0}
    spec = ChartSpec(data="row", name="Chart 1", series=("Q1", "Q2", "Q3", "Q4"), series_names=("Ana",))
    out = bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"row": row})
    chart = read_charts(out)[0]
    assert chart.categories == ("Q1", "Q2", "Q3", "Q4") and len(chart.series) == 1
    assert chart.series[0].name == "Ana" and chart.series[0].values == (120.0, 135.5, None, 160.0)
    assert chart.series[0].workbook_values == (120.0, 135.5, None, 160.0)


def test_blank_categories_and_empty_data(charts_dir, tmp_path):
    records = [{"Region": None, "Sales": 5}, {"Region": "", "Sales": 6}, {"Region": "North", "Sales": None}]
    values = chart_values(records, categories="Region", series=["Sales"])
    assert values.categories == ("(blank)", "(blank)", "North") and values.series[0].values == (5, 6, None)
    spec = ChartSpec(data="nothing", name="Chart 1", categories="Region", series=("Sales",))
    out = bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"nothing": []})
    assert read_charts(out)[0].categories == ("(no data)",)


# -- messages ---------------------------------------------------------------------------------------------------

def test_unknown_chart_lists_the_charts(charts_dir, tmp_path):
    spec = ChartSpec(data="by_region", name="Sales by region", categories="Region", series=("Sales",))
    with pytest.raises(TemplateError) as err:
        bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"by_region": BY_REGION})
    msg = str(err.value)
    assert 'chart "Sales by region" ([[charts]] 1 in docgen.toml)' in msg
    assert 'chart 1 ("Chart 1", title "Bar Chart Title {chart1}")' in msg and "View Alt Text" in msg
    assert chart_problems(docx.Document(str(charts_dir / "chart-bar.docx")), [spec]) == [msg]
    with pytest.raises(TemplateError, match="has no chart 3"):
        bind(charts_dir / "chart-bar.docx", tmp_path, [ChartSpec(data="x", index=3, series=("a",))], {})


def test_missing_column_and_value_are_named(charts_dir, tmp_path):
    src = charts_dir / "chart-bar.docx"
    with pytest.raises(MissingValues) as err:
        bind(src, tmp_path, [ChartSpec(data="by_region", name="Chart 1", categories="Region", series=("Sale",))],
             {"by_region": BY_REGION})
    assert "series 'Sale' is not in the data (did you mean 'Sales'?)" in str(err.value)
    with pytest.raises(MissingValues) as err:
        bind(src, tmp_path, [ChartSpec(data="by_regoin", name="Chart 1", categories="Region", series=("Sales",))],
             {"by_region": BY_REGION})
    assert "'by_regoin', which this document does not have (did you mean 'by_region'?)" in str(err.value)
    with pytest.raises(RenderError) as err:
        bind(src, tmp_path, [ChartSpec(data="rows", name="Chart 1", categories="Region", series=("Sales",))],
             {"rows": [{"Region": "West", "Sales": "n/a"}]})
    assert "the value of 'Sales' for 'West' is 'n/a', which is not a number" in str(err.value)
    assert not list(tmp_path.glob("*.docx"))


def test_too_many_points_is_refused():
    with pytest.raises(TemplateError, match="more than a chart can show"):
        chart_values([{"x": i, "y": i} for i in range(6000)], categories="x", series=["y"])


# -- the chart tag ------------------------------------------------------------------------------------------------

def tag_template(tmp_path: Path, *paragraphs: str) -> Path:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    path = tmp_path / "tag.docx"
    d.save(str(path))
    return path


def test_chart_tag_inserts_native_charts(tmp_path):
    src = tag_template(
        tmp_path,
        "Sales: {{ chart(by_region, x='Region', y=['Sales', 'Profit'], kind='bar', title='Sales by region') }}",
        "{{p chart(by_region, x='Region', y='Sales', kind='pie', title='Share of sales') }}",
        "{{p chart(by_region, x='Region', y=['Sales', 'Profit'], kind='column', stacked=true, title='Stacked') }}",
    )
    out = render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "out.docx")
    bar, pie, stacked = read_charts(out)
    assert (bar.kinds, bar.bar_dir, bar.title, bar.alt_text) == (("barChart",), "bar", "Sales by region",
                                                                 "Sales by region")
    assert_matches(bar, BY_REGION, "Region", ["Sales", "Profit"])
    assert pie.kinds == ("pieChart",) and pie.title == "Share of sales"
    assert_matches(pie, BY_REGION, "Region", ["Sales"])
    assert stacked.grouping == "stacked" and stacked.bar_dir == "col"
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "Sales: " in text and "chart(" not in text


@pytest.mark.parametrize("kind", ["line", "area", "doughnut", "radar"])
def test_chart_tag_kinds(tmp_path, kind):
    src = tag_template(tmp_path, f"{{{{p chart(by_region, x='Region', y='Sales', kind='{kind}', title='K') }}}}")
    (chart,) = read_charts(render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "o.docx"))
    assert chart.kinds == (f"{kind}Chart",)
    assert_matches(chart, BY_REGION, "Region", ["Sales"])


def test_chart_tag_bad_kind_and_size(tmp_path):
    src = tag_template(tmp_path, "{{ chart(by_region, x='Region', y='Sales', kind='funnel') }}")
    with pytest.raises(TemplateError, match="chart kind 'funnel' is not one docgen draws; use one of bar, column"):
        render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "o.docx")
    src = tag_template(tmp_path, "{{ chart(by_region, x='Region', y='Sales', width=12) }}")
    with pytest.raises(TemplateError, match="width '12' is not a length; write it with its unit"):
        render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "o.docx")


def test_picture_fallback_on_request_in_a_text_box_and_in_a_footnote(tmp_path, realdata):
    """picture=true, a chart tag typed in a text box (Word cannot hold a chart there) and one in a footnote all
    become 300 dpi PNG pictures with the title as alt text."""
    src = tag_template(tmp_path, "{{p chart(by_region, x='Region', y='Sales', title='Asked', picture=true, "
                                 "width='10cm', height='5cm') }}")
    out = render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "p.docx")
    assert read_charts(out) == []
    (pic,) = read_pictures(out)
    assert pic.alt_text == "Asked" and pic.content_type == "image/png"
    assert pic.cx == 3600000 and pic.cy == 1800000
    assert pic.width_px == pytest.approx(10 / 2.54 * 300, abs=2)  # print resolution

    # a text box: rewrite a Word text box's text into a chart tag
    box = _text_box_docx(tmp_path, "{{ chart(by_region, x='Region', y='Sales', title='In a box') }}")
    out = render_document(box, {"by_region": BY_REGION}, {}, tmp_path / "box.docx")
    assert read_charts(out) == []
    pics = read_pictures(out)
    assert pics and all(p.in_text_box and p.alt_text == "In a box" for p in pics)


def _text_box_docx(tmp_path: Path, text: str) -> Path:
    """A .docx whose only content is a Word text box (wps:txbx with its VML fallback) holding ``text``."""
    d = docx.Document()
    p = d.add_paragraph()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    box = (
        f'<w:r xmlns:w="{w}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        'xmlns:v="urn:schemas-microsoft-com:vml">'
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor distT="0" distB="0" distL="0" '
        'distR="0" simplePos="0" relativeHeight="1" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset>'
        '</wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="4000000" cy="2500000"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapSquare '
        'wrapText="bothSides"/><wp:docPr id="7" name="Text Box 7"/><wp:cNvGraphicFramePr/><a:graphic>'
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        '<wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="4000000" cy="2500000"/>'
        '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></wps:spPr><wps:txbx><w:txbxContent><w:p><w:r>'
        f'<w:t>{text}</w:t></w:r></w:p></w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData>'
        '</a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape style="width:315pt;'
        'height:197pt"><v:textbox><w:txbxContent><w:p><w:r>'
        f'<w:t>{text}</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>'
        '</mc:AlternateContent></w:r>'
    )
    from docx.oxml import parse_xml

    p._p.append(parse_xml(box))
    path = tmp_path / "box.docx"
    d.save(str(path))
    return path


def test_same_input_same_bytes(charts_dir, tmp_path):
    spec = ChartSpec(data="by_region", name="Chart 1", categories="Region", series=("Sales", "Profit", "count"))
    a = bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"by_region": BY_REGION}, "a.docx")
    b = bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"by_region": BY_REGION}, "b.docx")
    assert a.read_bytes() == b.read_bytes()
    src = tag_template(tmp_path, "{{p chart(by_region, x='Region', y='Sales') }}")
    c = render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "c.docx")
    d = render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "d.docx")
    assert c.read_bytes() == d.read_bytes()


def test_workbook_opens_as_excel_data(charts_dir, tmp_path):
    """What Word's "Edit Data" opens: the embedded workbook, Sheet1, categories in A2.., a series per column."""
    import openpyxl

    spec = ChartSpec(data="by_region", name="Chart 1", categories="Region", series=("Sales", "Profit"))
    out = bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"by_region": BY_REGION})
    z = zipfile.ZipFile(out)
    rels = z.read("word/charts/_rels/chart1.xml.rels").decode()
    target = re.search(r'Target="\.\./embeddings/([^"]+\.xlsx)"', rels).group(1)
    ws = openpyxl.load_workbook(io.BytesIO(z.read(f"word/embeddings/{target}"))).active
    assert ws.title == "Sheet1"
    assert [c.value for c in ws[1]][:3] == [None, "Sales", "Profit"]
    assert [ws.cell(r, 1).value for r in range(2, 6)] == ["West", "East", "Central", "South"]
    assert [ws.cell(r, 2).value for r in range(2, 6)] == [r["Sales"] for r in BY_REGION]


# -- what LibreOffice shows -----------------------------------------------------------------------------------------

def page_png(docx_path: Path, tmp_path: Path) -> Path:
    pdf = pdf_mod.convert_to_pdf(docx_path)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True)
    return next(tmp_path.glob("page*.png"))


def colored_pixels(png: Path) -> int:
    """Pixels that are clearly coloured (not white, grey or black text): the chart's bars and slices."""
    from PIL import Image

    with Image.open(png) as im:
        hsv = im.convert("RGB").convert("HSV")
        saturation = hsv.getchannel("S").histogram()
        return sum(saturation[90:])


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) and pdftoppm are not installed")
def test_libreoffice_draws_the_bound_and_the_new_chart(charts_dir, tmp_path):
    spec = ChartSpec(data="by_region", name="Chart 1", categories="Region", series=("Sales", "Profit", "count"),
                     title="Sales by region")
    out = bind(charts_dir / "chart-bar.docx", tmp_path, [spec], {"by_region": BY_REGION})
    pdf = pdf_mod.convert_to_pdf(out)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Sales by region" in text and "Central" in text and "Category 1" in text  # chart 2 keeps Word's data
    png = page_png(out, tmp_path)
    assert colored_pixels(png) > 3000

    src = tag_template(tmp_path, "Before", "{{p chart(by_region, x='Region', y=['Sales', 'Profit'], kind='column', "
                                           "title='New chart') }}", "After")
    out = render_document(src, {"by_region": BY_REGION}, {}, tmp_path / "tag-out.docx")
    shot = tmp_path / "tag"
    shot.mkdir()
    png = page_png(out, shot)
    assert colored_pixels(png) > 3000
    text = subprocess.run(["pdftotext", str(out.with_suffix(".pdf")), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "New chart" in text and "West" in text and "South" in text


def test_tag_functions_do_not_expose_the_document_to_the_template(tmp_path):
    """The sandbox refuses underscore attributes: a template cannot reach the document through chart/image."""
    from docgen.errors import DocgenError

    for tag in ("{{ chart._tpl }}", "{{ image._tpl.docx }}", "{{ chart.tpl }}"):
        src = tag_template(tmp_path, tag)
        with pytest.raises(DocgenError):
            render_document(src, {}, {}, tmp_path / "o.docx")
        assert not (tmp_path / "o.docx").exists()


def test_the_chart_points_bound_comes_from_limits(monkeypatch):
    from docgen.errors import TemplateError
    from docgen.render.charts import chart_values

    rows = [{"day": f"d{i}", "tips": i} for i in range(4)]
    assert len(chart_values(rows, categories="day", series=["tips"], what="chart 'Tips'").categories) == 4
    monkeypatch.setenv("DOCGEN_LIMIT_CHART_POINTS", "3")
    with pytest.raises(TemplateError, match=r"chart 'Tips': 4 points is more than a chart can show \(3 points; "
                                            r"raise it with the environment variable DOCGEN_LIMIT_CHART_POINTS\)"):
        chart_values(rows, categories="day", series=["tips"], what="chart 'Tips'")
