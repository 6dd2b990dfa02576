"""Server-rendered SVG charts: well-formed, accessible, proportional, escaped, and drawable by
fpdf2 (shapes and text) so the PDF report can embed the very same markup."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from fpdf import FPDF
from markupsafe import Markup

from app.certificates.pdf import FONT_DIR
from app.charts import COLORS, PAD, WIDTH, bar_chart, histogram, paired_bars, text_width
from app.i18n import translations

NS = "{http://www.w3.org/2000/svg}"
NO_DATA = translations("id").gettext("No data yet.")

FUNNEL = [
    ("Diaktivasi", 80.0, "80 (100%)"),
    ("Pre-test selesai", 72.0, "72 (90%)"),
    ("Modul 1 lulus", 60.0, "60 (75%)"),
    ("Bersertifikat", 12.0, "12 (15%)"),
]
VALUES = [
    ("Kejujuran", 55.5, 80.0),
    ("Tanggung jawab", 60.0, None),
    ("Kesederhanaan", None, 97.0),
]
COUNTS = [0, 1, 2, 5, 8, 12, 9, 6, 3, 1]
EDGES = list(range(0, 101, 10))


def _charts() -> list[Markup]:
    return [
        bar_chart(FUNNEL, title="Funnel", max_value=80),
        bar_chart(FUNNEL, title="Funnel", width=720, label_width=210),
        paired_bars(VALUES, title="Pre/post", first_label="Pre-test", second_label="Post-test"),
        paired_bars(
            VALUES, title="Pre/post", first_label="A", second_label="B", width=720, label_width=200
        ),
        histogram(COUNTS, edges=EDGES, title="Sebaran skor", x_label="Skor (%)"),
    ]


def _empty() -> list[Markup]:
    return [
        bar_chart([], title="Funnel"),
        paired_bars([], title="Pre/post", first_label="A", second_label="B"),
        histogram([], edges=[], title="Sebaran"),
        histogram([0, 0, 0], edges=[0, 50, 90, 100], title="Sebaran"),
    ]


def _root(svg: Markup) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 — our own markup


def _texts(svg: Markup) -> list[str]:
    return [el.text or "" for el in _root(svg).iter(f"{NS}text")]


def _viewbox(svg: Markup) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in _root(svg).attrib["viewBox"].split())
    return x, y, w, h


def _luminance(hex_color: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --- markup -------------------------------------------------------------------------------


@pytest.mark.parametrize("svg", _charts() + _empty())
def test_every_chart_is_well_formed_accessible_svg(svg):
    assert isinstance(svg, Markup)
    root = _root(svg)
    assert root.tag == f"{NS}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-label"].strip()
    assert root[0].tag == f"{NS}title" and root[0].text
    _, _, w, h = _viewbox(svg)
    assert w > 0 and h > 0
    # it scales with its container: no fixed size
    assert "width" not in root.attrib and "height" not in root.attrib
    assert "chart" in root.attrib["class"].split()


@pytest.mark.parametrize("svg", _charts() + _empty())
def test_no_inline_style_no_script_and_colours_as_attributes(svg):
    for el in _root(svg).iter():
        assert "style" not in el.attrib
        assert el.tag not in (f"{NS}script", f"{NS}style", f"{NS}foreignObject")
        assert not any(name.startswith("on") for name in el.attrib)
        if el.tag in (f"{NS}rect", f"{NS}text"):
            assert re.fullmatch(r"#[0-9a-f]{6}", el.attrib["fill"])


def test_palette_meets_wcag_aa():
    white, track = COLORS["paper"], COLORS["track"]
    for text in ("ink", "muted"):  # texts on the page and on the bars' track
        assert _contrast(COLORS[text], white) >= 4.5
        assert _contrast(COLORS[text], track) >= 4.5
    for bar in ("brand", "accent", "grey"):  # bars, and white value texts inside them
        assert _contrast(COLORS[bar], white) >= 4.5
        assert _contrast(COLORS[bar], track) >= 3
    assert _contrast(COLORS["line"], white) >= 3


@pytest.mark.parametrize("svg", _empty())
def test_empty_input_gives_a_valid_chart_that_says_so(svg):
    assert NO_DATA in _texts(svg)
    assert NO_DATA in _root(svg).attrib["aria-label"]
    assert not [el for el in _root(svg).iter(f"{NS}rect") if "chart-bar" in el.get("class", "")]


def test_no_data_text_follows_the_locale():
    en = translations("en").gettext("No data yet.")
    assert en in _texts(bar_chart([], title="x", locale="en"))


# --- bar chart ----------------------------------------------------------------------------


def _of_class(svg: Markup, tag: str, cls: str) -> list[ET.Element]:
    return [el for el in _root(svg).iter(f"{NS}{tag}") if el.get("class") == cls]


def _bars(svg: Markup, cls: str = "chart-bar") -> list[ET.Element]:
    return _of_class(svg, "rect", cls)


def test_bar_chart_shows_labels_and_value_texts():
    svg = bar_chart(FUNNEL, title="Funnel", max_value=80)
    texts = _texts(svg)
    for label, _, value_text in FUNNEL:
        assert label in texts
        assert value_text in texts
        assert f"{label}: {value_text}" in _root(svg).attrib["aria-label"]


@pytest.mark.parametrize("layout", [{}, {"width": 720, "label_width": 210}])
def test_bar_widths_are_proportional_to_values(layout):
    svg = bar_chart(FUNNEL, title="Funnel", max_value=100, **layout)
    bars = _bars(svg)
    assert len(bars) == len(FUNNEL)
    widths = [float(b.attrib["width"]) for b in bars]
    _, _, view_w, _ = _viewbox(svg)
    track = view_w - PAD - float(bars[0].attrib["x"])
    for (_, value, _), width in zip(FUNNEL, widths, strict=True):
        assert width == pytest.approx(value / 100 * track, abs=0.01)
    # all bars start at the same x, and the longest stays inside the chart
    assert len({b.attrib["x"] for b in bars}) == 1
    assert max(widths) <= view_w


def test_bar_chart_scales_to_the_largest_value_by_default():
    svg = bar_chart([("a", 10, "10"), ("b", 40, "40"), ("c", 20, "20")], title="t")
    widths = [float(b.attrib["width"]) for b in _bars(svg)]
    assert widths[1] == pytest.approx(WIDTH - 2 * PAD)
    assert widths[0] == pytest.approx(widths[1] / 4, abs=0.01)
    assert widths[2] == pytest.approx(widths[1] / 2, abs=0.01)


def test_zero_negative_and_oversized_values():
    svg = bar_chart(
        [("zero", 0, "0"), ("neg", -3, "-3"), ("big", 500, "500")], title="t", max_value=100
    )
    widths = [float(b.attrib["width"]) for b in _bars(svg)]
    assert widths == [pytest.approx(WIDTH - 2 * PAD)]  # only "big", capped at full length
    assert {"0", "-3", "500"} <= set(_texts(svg))
    # all zeros: no division by zero
    svg = bar_chart([("a", 0, "0"), ("b", 0, "0")], title="t")
    assert _bars(svg) == [] and "0" in _texts(svg)


def test_labels_and_titles_are_escaped():
    nasty = '<script>alert("x")</script> & <b>'
    svg = bar_chart([(nasty, 1, "1 <&> 2")], title='T <&> "q"')
    raw = str(svg)
    assert "<script>" not in raw and "<b>" not in raw
    root = _root(svg)
    assert root[0].text == 'T <&> "q"'
    texts = _texts(svg)
    assert "1 <&> 2" in texts
    assert any(t.startswith("<script>alert") for t in texts)
    assert nasty in root.attrib["aria-label"]
    svg = paired_bars([(nasty, 1, 2)], title="<t>", first_label="<a>", second_label="&b")
    assert "<a>" in _texts(svg) and "&b" in _texts(svg)
    svg = histogram([1], edges=[0, 1], title="<h>", x_label="<&>")
    assert "<&>" in _texts(svg)


def test_long_labels_wrap_then_shorten_and_stay_readable_in_full():
    long = "Kesederhanaan dan keberanian dalam bertindak jujur di rumah dan di kantor " * 2
    svg = bar_chart([(long, 3, "3"), ("Tanggung jawab", 5, "5")], title="t")
    labels = [el.text or "" for el in _of_class(svg, "text", "chart-label")]
    assert "Tanggung jawab" in labels  # short names stay whole
    first = [t for t in labels if t != "Tanggung jawab"]
    assert 1 < len(first) <= 2  # wrapped over two lines
    assert first[-1].endswith("\u2026")  # and cut short
    assert long.startswith(" ".join(first)[:-1].rstrip())
    for line in first:
        assert text_width(line, 14) <= WIDTH - 2 * PAD
    assert long.strip() in _root(svg).attrib["aria-label"]
    # in a label column, it fits the column
    svg = bar_chart([(long, 3, "3")], title="t", width=720, label_width=200)
    for el in _root(svg).iter(f"{NS}text"):
        if el.get("class") == "chart-label":
            assert text_width(el.text or "", 14) <= 200


def test_value_text_moves_inside_a_bar_that_fills_the_chart():
    svg = bar_chart([("a", 100, "100 (100%)"), ("b", 10, "10 (10%)")], title="t")
    values = {el.text: el for el in _of_class(svg, "text", "chart-value")}
    inside, after = values["100 (100%)"], values["10 (10%)"]
    assert inside.attrib["text-anchor"] == "end" and inside.attrib["fill"] == COLORS["paper"]
    assert "text-anchor" not in after.attrib and after.attrib["fill"] == COLORS["ink"]


# --- paired bars --------------------------------------------------------------------------


def test_paired_bars_two_bars_per_row_a_legend_and_dashes_for_missing():
    svg = paired_bars(VALUES, title="t", first_label="Pre-test", second_label="Post-test")
    texts = _texts(svg)
    assert "Pre-test" in texts and "Post-test" in texts
    assert "55,5%" in texts and "80%" in texts and "60%" in texts and "97%" in texts
    assert texts.count("\u2013") == 2  # the two missing values
    first, second = _bars(svg, "chart-bar-1"), _bars(svg, "chart-bar-2")
    assert len(first) == 2 and len(second) == 2  # no bar for a missing value
    track = WIDTH - 2 * PAD
    assert float(first[0].attrib["width"]) == pytest.approx(55.5 / 100 * track, abs=0.01)
    assert float(second[0].attrib["width"]) == pytest.approx(80 / 100 * track, abs=0.01)
    assert first[0].attrib["fill"] != second[0].attrib["fill"]
    label = _root(svg).attrib["aria-label"]
    assert "Kejujuran: Pre-test 55,5%, Post-test 80%" in label
    assert "Tanggung jawab: Pre-test 60%, Post-test \u2013" in label


def test_paired_bars_number_format_follows_the_locale_and_max_value():
    svg = paired_bars(
        [("x", 72.5, 3.74)],
        title="t",
        first_label="a",
        second_label="b",
        locale="en",
        max_value=80,
        suffix="",
    )
    assert "72.5" in _texts(svg) and "3.7" in _texts(svg)
    assert "72,5%" in _texts(
        paired_bars([("x", 72.5, 1)], title="t", first_label="a", second_label="b")
    )
    track = WIDTH - 2 * PAD
    width = float(_bars(svg, "chart-bar-1")[0].attrib["width"])
    assert width == pytest.approx(72.5 / 80 * track, abs=0.01)


# --- histogram ----------------------------------------------------------------------------


def test_histogram_counts_edges_and_proportional_heights():
    svg = histogram(COUNTS, edges=EDGES, title="t", x_label="Skor (%)")
    texts = _texts(svg)
    for count in COUNTS:
        assert str(count) in texts
    for edge in EDGES:
        assert str(edge) in texts
    assert "Skor (%)" in texts
    bars = _bars(svg)
    assert len(bars) == sum(1 for c in COUNTS if c)  # an empty bin has no bar
    heights = [float(b.attrib["height"]) for b in bars]
    tallest = max(heights)
    for count, height in zip([c for c in COUNTS if c], heights, strict=True):
        assert height == pytest.approx(tallest * count / max(COUNTS), abs=0.01)
    # the bars share one baseline
    bottoms = {round(float(b.attrib["y"]) + float(b.attrib["height"]), 2) for b in bars}
    assert len(bottoms) == 1
    assert "50\u201360: 12" in _root(svg).attrib["aria-label"]


def test_histogram_needs_one_more_edge_than_counts():
    with pytest.raises(ValueError):
        histogram([1, 2], edges=[0, 100], title="t")


def test_histogram_with_many_bins_thins_its_axis_labels():
    counts = list(range(1, 41))
    edges = [i * 2.5 for i in range(41)]
    svg = histogram(counts, edges=edges, title="t")
    ticks = [el for el in _root(svg).iter(f"{NS}text") if el.get("fill") == COLORS["muted"]]
    assert 2 < len(ticks) < 41
    assert ticks[0].text == "0" and ticks[-1].text == "100"
    xs = [float(t.attrib["x"]) for t in ticks]
    assert all(b - a >= 20 for a, b in zip(xs, xs[1:], strict=False))


# --- fpdf2 --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfium():
    return pytest.importorskip("pypdfium2")


def _embedded(svg: Markup) -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVuSans", "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font("DejaVuSans", "B", FONT_DIR / "DejaVuSans-Bold.ttf")
    pdf.add_page()
    pdf.image(io.BytesIO(str(svg).encode()), x=15, y=15, w=180)
    return bytes(pdf.output())


@pytest.mark.parametrize("svg", _charts() + _empty())
def test_fpdf2_draws_every_chart_with_its_text(svg, pdfium):
    data = _embedded(svg)
    page = pdfium.PdfDocument(data)[0]
    textpage = page.get_textpage()
    text = " ".join(textpage.get_text_range().split())
    textpage.close()
    for t in _texts(svg):
        assert " ".join(t.split()) in text
    assert b"DejaVuSans" in data  # the text is set in the shipped Unicode font
    # and the bars are drawn: the page is not blank where the chart is
    image = page.render(scale=1).to_pil().convert("L")
    assert image.getextrema()[0] < 100
