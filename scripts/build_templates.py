"""Rebuild the bundled templates' template.docx files and sample data.

Run from the repository root:  python scripts/build_templates.py [--realdata ../shared/realdata]

The .docx files are committed; this script documents exactly how they were made (python-docx, default Word
styles) so a template author can change them reproducibly. Sample data is selected from the real files in
../shared/realdata (see each template's SOURCE.md for source and licence).
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


#: Width of the text column of a default python-docx page (Letter, 1" margins), in inches.
TEXT_WIDTH = 6.5
#: Rough width of one character of the table style's 11 pt font, in inches (digits ~0.08", bold a little more).
CHAR_WIDTH = 0.1
#: Cell margins left + right of Word's default table (0.08" each) plus a little air.
CELL_PADDING = 0.25


#: How much wider bold header text is than body text at the same size (measured on LibreOffice's rendering of
#: "Comments" in the table style's bold header, which wrapped at the body-text width).
BOLD_FACTOR = 1.2


def content_widths(header: list[str], samples: list[str], total: float = TEXT_WIDTH,
                   wrap: tuple[int, ...] = ()) -> list[float]:
    """Column widths (inches) from content, as a person sizing a Word table by hand would: each column as wide
    as its header or its widest expected value (``samples[i]``, e.g. "$2,297,200.86"), so numbers never wrap;
    columns in ``wrap`` (long text such as comments) take whatever width is left, at least 1.5"."""
    # a header is set in bold, about a fifth wider than body text ("Comments" wrapped to "Comment/s")
    need = [max(len(h) * BOLD_FACTOR, len(v)) * CHAR_WIDTH + CELL_PADDING for h, v in zip(header, samples, strict=True)]
    fixed = sum(w for i, w in enumerate(need) if i not in wrap)
    if wrap:
        share = max(1.5, (total - fixed) / len(wrap))
        need = [share if i in wrap else w for i, w in enumerate(need)]
    scale = min(1.0, total / sum(need))
    return [round(w * scale, 2) for w in need]


def _table(doc, header: list[str], loop: str, cells: list[str], endloop: str = "{%tr endfor %}",
           widths: list[float] | None = None, *, samples: list[str] | None = None,
           numeric: tuple[int, ...] = (), wrap: tuple[int, ...] = ()):
    """A table that looks made by hand: a header row repeated on every page, no row split across pages, number
    columns (``numeric``, 0-based) right-aligned, and column widths from ``samples`` (the widest expected value
    per column, see :func:`content_widths`) unless ``widths`` (inches) are given. The body is a docxtpl row loop:
    loop row, data row, endfor row (docxtpl removes the tag rows; the data row is copied with its formatting)."""
    table = doc.add_table(rows=4, cols=len(header))
    table.style = "Light Grid Accent 1"
    for i, text in enumerate(header):
        table.rows[0].cells[i].text = text
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for row in table.rows:  # keep every row on one page
        cant_split = OxmlElement("w:cantSplit")
        cant_split.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().insert(0, cant_split)
    if widths is None and samples is not None:
        widths = content_widths(header, samples, wrap=wrap)
    if widths:
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Inches(width)  # w:gridCol, which LibreOffice follows
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Inches(width)
    table.rows[1].cells[0].text = loop
    for i, text in enumerate(cells):
        table.rows[2].cells[i].text = text
    for i in numeric:
        for r in (0, 2):
            table.rows[r].cells[i].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    table.rows[3].cells[0].text = endloop
    return table


def _footer(doc, text: str) -> None:
    para = doc.sections[0].footer.paragraphs[0]
    para.text = text
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in para.runs:
        run.font.size = Pt(8)
        run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)


def _chart(doc, alt_text: str, kind: str, series: list[str]) -> None:
    """A native Word chart with placeholder numbers, named by its alt text; docgen.toml's [[charts]] binds it to
    an aggregate (docs/charts.md), as a template author would with a chart inserted in Word."""
    from docgen.render.charts import ChartValues, Series, insert_chart

    placeholder = ChartValues(tuple(f"Category {i}" for i in range(1, 5)),
                              tuple(Series(name, (4.0, 3.0, 2.0, 1.0)) for name in series))
    insert_chart(doc.add_paragraph(), placeholder, kind, title=alt_text, alt_text=alt_text, width_cm=15, height_cm=7)


def build_sales_report(folder: Path) -> None:
    doc = Document()
    doc.add_paragraph("{{ company }} sales report", style="Title")
    doc.add_paragraph("Period {{ period }} · prepared by {{ author }} on {{ today|date }}", style="Subtitle")
    doc.add_paragraph("Executive summary", style="Heading 1")
    doc.add_paragraph("{{p sections.summary }}")
    doc.add_paragraph("Key figures", style="Heading 1")
    for label, value in (
        ("Total sales", "{{ totals.Sales|money }}"),
        ("Total profit", "{{ totals.Profit|money }} ({{ (totals.Profit / totals.Sales)|percent }} margin)"),
        ("Units sold", "{{ totals.Quantity|number }} in {{ totals.count|number }} order lines"),
    ):
        para = doc.add_paragraph(style="List Bullet")
        para.add_run(f"{label}: ").bold = True
        para.add_run(value)
    doc.add_paragraph("Sales by region", style="Heading 2")
    _table(doc, ["Region", "Sales", "Share", "Profit", "Order lines"], "{%tr for r in by_region %}",
           ["{{ r.Region }}", "{{ r.Sales|money }}", "{{ r.share|percent }}", "{{ r.Profit|money }}",
            "{{ r.count|number }}"],
           samples=["Central", "$72,756,558.61", "100.0%", "-$11,008,143.73", "320,503"], numeric=(1, 2, 3, 4))
    _chart(doc, "Sales by region", "bar", ["Sales", "Profit"])
    doc.add_paragraph("Sales by category", style="Heading 2")
    _table(doc, ["Category", "Sales", "Share", "Profit"], "{%tr for c in by_category %}",
           ["{{ c.Category }}", "{{ c.Sales|money }}", "{{ c.share|percent }}", "{{ c.Profit|money }}"],
           samples=["Office Supplies", "$72,756,558.61", "100.0%", "-$11,008,143.73"], numeric=(1, 2, 3))
    _chart(doc, "Sales by category", "column", ["Sales", "Profit"])
    doc.add_paragraph("Most and least profitable sub-categories", style="Heading 2")
    _table(doc, ["Sub-category", "Profit", "Sales"],
           "{%tr for s in top_subcategories + (loss_subcategories|reject('in', top_subcategories)|list) %}",
           ["{{ s['Sub-Category'] }}", "{{ s.Profit|money }}", "{{ s.Sales|money }}"],
           samples=["Accessories", "-$11,008,143.73", "$72,756,558.61"], numeric=(1, 2))
    doc.add_paragraph("Commentary", style="Heading 1")
    doc.add_paragraph("{{p sections.commentary }}")
    _footer(doc, "{{ company }} · {{ template.name }} {{ template.version }} · narrative written by a local model; "
                 "figures computed from the data")
    doc.save(folder / "template.docx")


def build_service_reply(folder: Path) -> None:
    doc = Document()
    head = doc.add_paragraph()
    run = head.add_run("{{ company }}")
    run.bold = True
    run.font.size = Pt(16)
    doc.add_paragraph("Customer Care")
    date = doc.add_paragraph("{{ today|date }}")
    date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    ref = doc.add_paragraph()
    ref.add_run("Our reference: ").bold = True
    ref.add_run("ticket {{ row.ticket_id }}")
    doc.add_paragraph("Dear {{ customer_name }},")
    doc.add_paragraph("Thank you for taking the time to tell us about your experience. You wrote:")
    quote = doc.add_paragraph()
    quote.paragraph_format.left_indent = Pt(24)
    quote.add_run("“{{ row.comment }}”").italic = True
    doc.add_paragraph("{{p sections.body }}")
    # the clause of the company's policy that best matches the customer's words, quoted, with its footnote
    doc.add_paragraph("{%p if 'body' in sources %}")
    doc.add_paragraph("The part of our policy that applies:")
    doc.add_paragraph("{{p sources.body.quote }}")
    doc.add_paragraph("{%p endif %}")
    # the closing and the signature stay on one page (a page break between "Kind regards," and the name
    # reads as an unsigned letter)
    for line in ("Kind regards,", "{{ signer }}"):
        doc.add_paragraph(line).paragraph_format.keep_with_next = True
    doc.add_paragraph("{{ company }}")
    _footer(doc, "{{ company }} · Customer Care · {{ support_contact }}")
    doc.save(folder / "template.docx")


# The service-reply template's reference documents: a small, consistent policy set for the fictional Northwind
# Electronics, with the numbers a reply letter may quote (days, months, amounts). Each entry: (heading, body);
# a body that is a list of rows becomes a table whose first row is the header.
RETURNS_POLICY = ("Returns policy", "Northwind Electronics. Effective 1 March 2024. This policy applies to products "
                  "bought from Northwind Electronics online or by phone.", [
    ("1. Your right to return", "You may return any product within 30 days of delivery for a full refund, for any "
     "reason. The product must be complete, with its accessories and manuals, and undamaged. It does not have to be "
     "in its original packaging."),
    ("2. How to return a product", "Contact Customer Care with your order number to get a free returns label. Pack "
     "the product securely and drop it at any parcel shop within 14 days of requesting the label. Returns are free "
     "within the 30-day period."),
    ("3. Refunds", "We refund the price you paid, and the standard delivery charge, to your original payment method "
     "within 14 days of receiving the returned product. We do not give refunds in cash or as store credit unless you "
     "ask for store credit."),
    ("4. Faulty or damaged on arrival", "If a product arrives damaged or does not work when you first use it, tell "
     "us within 14 days of delivery. We send a replacement at no cost, or refund you in full if you prefer. Please "
     "keep the packaging so that the carrier can inspect it."),
    ("5. What cannot be returned", "Opened software, opened headphones and earphones (for hygiene reasons), gift "
     "cards and products damaged by misuse cannot be returned for a refund. After 30 days a product that is not "
     "faulty cannot be returned; a faulty product is covered by our Warranty terms."),
    ("6. Exchanges", "We do not exchange products directly. Return the product for a refund and place a new order "
     "for the one you want; we reserve the price for 7 days if you ask Customer Care."),
])
WARRANTY_TERMS = ("Warranty terms", "Northwind Electronics. Effective 1 March 2024. These terms are in addition to "
                  "your rights under consumer law.", [
    ("1. What the warranty covers", "Every product sold by Northwind Electronics is covered against defects in "
     "materials and workmanship for 12 months from the date of delivery. Products of our own Northwind Home and "
     "Northwind Audio brands are covered for 24 months. If a product stops working or develops a fault in that time "
     "through no fault of yours, the warranty applies."),
    ("2. Warranty periods", [["Product", "Warranty period"], ["DVD and Blu-ray players", "12 months"],
                             ["TVs and monitors", "24 months"], ["Headphones and speakers", "12 months"],
                             ["Northwind Home and Northwind Audio products", "24 months"],
                             ["Refurbished products", "6 months"], ["Batteries and remote controls", "6 months"]]),
    ("3. What we will do", "If a product develops a fault during the warranty period, we repair it free of charge. "
     "If a repair is not possible, or the same fault comes back after a repair, we replace the product with the same "
     "or an equivalent model. If no replacement is available, we refund the price you paid. Repairs are normally "
     "finished within 10 working days of the product reaching our service centre."),
    ("4. What the warranty does not cover", "The warranty does not cover accidental damage (drops, liquid), misuse, "
     "damage from repairs by anyone other than Northwind Electronics, scratched or cracked discs, or problems that a "
     "reset or a software update fixes."),
    ("5. How to make a warranty claim", "Contact Customer Care with your order number and a short description of the "
     "fault. We email you a free prepaid shipping label within 2 working days; you never pay postage for a warranty "
     "repair. Keep your proof of purchase: the order confirmation email is enough."),
    ("6. After the warranty", "After the warranty has ended we can still repair most products for a fixed fee of "
     "$49 plus parts. We always send you a quote first, and you decide whether to go ahead."),
])


def _policy_docx(path: Path, policy) -> None:
    """A reference document: Title, a lead paragraph, numbered Heading 1 clauses with paragraphs or a table."""
    title, lead, clauses = policy
    doc = Document()
    doc.core_properties.title = title
    doc.add_paragraph(title, style="Title")
    doc.add_paragraph(lead)
    for heading, body in clauses:
        doc.add_paragraph(heading, style="Heading 1")
        if isinstance(body, str):
            doc.add_paragraph(body)
            continue
        table = doc.add_table(rows=len(body), cols=len(body[0]))
        table.style = "Light Grid Accent 1"
        for r, cells in enumerate(body):
            for c, text in enumerate(cells):
                table.rows[r].cells[c].text = text
    doc.save(path)


def build_service_reply_references(folder: Path) -> None:
    """templates/service-reply/references/: Returns policy.docx and Warranty terms.docx (Shipping.md is written
    by hand)."""
    folder.mkdir(exist_ok=True)
    _policy_docx(folder / "Returns policy.docx", RETURNS_POLICY)
    _policy_docx(folder / "Warranty terms.docx", WARRANTY_TERMS)


def build_sentiment_report(folder: Path) -> None:
    doc = Document()
    doc.add_paragraph("Customer sentiment: {{ product }}", style="Title")
    doc.add_paragraph("{{ record_count }} customer comments · {{ analyst }} · {{ today|date }}", style="Subtitle")
    doc.add_paragraph("Summary", style="Heading 1")
    doc.add_paragraph("{{p sections.summary }}")
    doc.add_paragraph("Sentiment breakdown", style="Heading 1")
    _table(doc, ["Sentiment", "Comments", "Share"], "{%tr for s in by_sentiment %}",
           ["{{ s.sentiment }}", "{{ s.count }}", "{{ (s.count / record_count)|percent(0) }}"],
           samples=["negative", "100,000", "100%"], numeric=(1, 2))
    # a native Word chart drawn by the chart tag from the same aggregate as the table (docs/charts.md)
    doc.add_paragraph("{{p chart(by_sentiment, x='sentiment', y='count', kind='pie', names=['Comments'], "
                      "title='Comments by sentiment', width='12cm', height='7cm') }}")
    doc.add_paragraph("Examples", style="Heading 1")
    _table(doc, ["Sentiment", "Comment"],
           "{%tr for r in (rows|selectattr('sentiment', 'equalto', 'negative')|list)[:3] + "
           "(rows|selectattr('sentiment', 'equalto', 'neutral')|list)[:3] + "
           "(rows|selectattr('sentiment', 'equalto', 'positive')|list)[:3] %}",
           ["{{ r.sentiment }}", "{{ r.comment }}"], samples=["negative", ""], wrap=(1,))
    doc.add_paragraph("Appendix: all comments", style="Heading 1")
    _table(doc, ["#", "Comment", "Sentiment"], "{%tr for r in rows %}",
           ["{{ loop.index }}", "{{ r.comment }}", "{{ r.sentiment }}"], samples=["9,999", "", "negative"],
           numeric=(0,), wrap=(1,))
    _footer(doc, "{{ template.name }} {{ template.version }} · sentiment classified by a local model; "
                 "check before quoting")
    doc.save(folder / "template.docx")


def build_wildlife_survey(folder: Path) -> None:
    """The field-survey report over templates/wildlife-survey/sample.csv (Palmer penguins, see its SOURCE.md):
    written from docs/template-language.md alone, as a new template author would."""
    doc = Document()
    doc.add_paragraph("Field survey: {{ station }}", style="Title")
    doc.add_paragraph("{{ first_year.min_year }}–{{ last_year.max_year }} · prepared by {{ author }} on "
                      "{{ today|date }}", style="Subtitle")
    doc.add_paragraph("Summary", style="Heading 1")
    doc.add_paragraph("{{p sections.summary }}")
    doc.add_paragraph("Key figures", style="Heading 1")
    for label, value in (
        ("Animals measured", "{{ totals.count }} of {{ totals.distinct_species }} species on "
                             "{{ totals.distinct_island }} islands"),
        ("Mean body mass", "{{ totals.mean_body_mass_kg|number(2) }} kg"),
    ):
        para = doc.add_paragraph(style="List Bullet")
        para.add_run(f"{label}: ").bold = True
        para.add_run(value)
    doc.add_paragraph("By species and island", style="Heading 2")
    _table(doc, ["Species", "Island", "Animals", "Body mass (kg)", "Flipper (mm)"],
           "{%tr for g in by_species_island %}",
           ["{{ g.species }}", "{{ g.island }}", "{{ g.count }}", "{{ g.mean_body_mass_kg|number(2) }}",
            "{{ g.mean_flipper_length_mm|number(1) }}"],
           samples=["Chinstrap", "Torgersen", "999", "10.00", "999.9"], numeric=(2, 3, 4))
    doc.add_paragraph("Females and males", style="Heading 2")
    doc.add_paragraph("Animals whose sex was recorded ({{ by_species_sex|sum(attribute='count') }} of "
                      "{{ totals.count }}).")
    _table(doc, ["Species", "Sex", "Animals", "Body mass (kg)", "Flipper (mm)"], "{%tr for g in by_species_sex %}",
           ["{{ g.species }}", "{{ g.sex }}", "{{ g.count }}", "{{ g.mean_body_mass_kg|number(2) }}",
            "{{ g.mean_flipper_length_mm|number(1) }}"],
           samples=["Chinstrap", "female", "999", "10.00", "999.9"], numeric=(2, 3, 4))
    doc.add_paragraph("Animals counted each year", style="Heading 2")
    _table(doc, ["Species", "Year", "Animals", "Change", "Growth"], "{%tr for g in by_species_year %}",
           ["{{ g.species }}", "{{ g.year }}", "{{ g.count }}", "{{ g.change_count }}",
            "{{ g.growth_count|percent }}"],
           samples=["Chinstrap", "2009", "999", "-999", "-100.0%"], numeric=(1, 2, 3, 4))
    _footer(doc, "{{ template.name }} {{ template.version }} · summary written by a local model; figures computed "
                 "from the data")
    doc.save(folder / "template.docx")


def _snippets(realdata: Path) -> list[tuple[str, float, str]]:
    path = realdata / "text" / "amazonReviewSnippets_GroundTruth.txt"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            out.append((parts[0], float(parts[1]), parts[2].strip()))
    return out


def build_samples(realdata: Path) -> None:
    shutil.copyfile(realdata / "tabular" / "SampleSuperstore.csv", TEMPLATES / "sales-report" / "sample.csv")
    snippets = _snippets(realdata)
    complaints = [s for s in snippets if s[1] <= -1.5 and len(s[2]) >= 60][:8]
    with (TEMPLATES / "service-reply" / "sample.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["ticket_id", "rating", "comment"])
        for sid, rating, text in complaints:
            writer.writerow([sid.replace("_", "-"), rating, text])
    # 20 clearly positive, 20 near-neutral, 20 clearly negative, every k-th in file order (no cherry-picking)
    pos = [s for s in snippets if s[1] >= 1.5 and len(s[2]) >= 30]
    neu = [s for s in snippets if abs(s[1]) <= 0.3 and len(s[2]) >= 30]
    neg = [s for s in snippets if s[1] <= -1.5 and len(s[2]) >= 30]
    picked = []
    for group in (pos, neu, neg):
        step = max(1, len(group) // 20)
        picked += group[::step][:20]
    picked.sort(key=lambda s: [int(x) for x in s[0].split("_")])
    with (TEMPLATES / "sentiment-report" / "sample.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "human_rating", "comment"])
        for sid, rating, text in picked:
            writer.writerow([sid, rating, text])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--realdata", type=Path, default=ROOT.parent / "shared" / "realdata")
    args = parser.parse_args()
    build_sales_report(TEMPLATES / "sales-report")
    build_service_reply(TEMPLATES / "service-reply")
    build_service_reply_references(TEMPLATES / "service-reply" / "references")
    build_sentiment_report(TEMPLATES / "sentiment-report")
    build_wildlife_survey(TEMPLATES / "wildlife-survey")
    build_samples(args.realdata)
    print("Rebuilt", ", ".join(p.name for p in sorted(TEMPLATES.iterdir()) if p.is_dir()))


if __name__ == "__main__":
    main()
