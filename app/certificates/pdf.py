"""Printable documents: activation cards for a cohort and the participant's certificate.

Both are drawn with fpdf2 using the DejaVu fonts shipped in ``app/static/fonts`` (so names
with accents print correctly), and carry QR codes made with segno. Every text is passed in
already translated; this module only lays it out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import segno
from fpdf import FPDF
from fpdf.enums import MethodReturnValue

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"

_SANS = "DejaVuSans"
_MONO = "DejaVuSansMono"
_META = "Keluarga Berintegritas"

_PT = 25.4 / 72  # one typographic point in millimetres

# The site's palette (app/static/css/app.css) plus a muted gold for rules and borders.
_INK = (29, 29, 31)
_MUTED = (79, 79, 85)
_BRAND = (122, 31, 31)
_GOLD = (176, 141, 87)
_CUT = (150, 150, 150)

_ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class Card:
    name: str  # participant display name
    couple_code: str  # e.g. "TNG24-017"
    role_label: str  # e.g. "Pejabat" / "Pasangan" (already translated by the caller)
    code: str  # the one-time activation code, e.g. "K7P2-9QXM"
    url: str  # e.g. "https://host/activate?code=K7P2-9QXM"
    username: str = ""  # the login name, e.g. "tng24-017a" (for signing in later)
    valid_until: str = ""  # e.g. "Berlaku sampai 14 November 2024." (already translated)


# --- signature images ---------------------------------------------------------------------

SIGNATURE_MAX_BYTES = 200 * 1024
SIGNATURE_MAX_PIXELS = 4_000_000  # far more than a signature needs; decoding stays cheap
_MAGIC = {b"\x89PNG\r\n\x1a\n": ("PNG", "image/png"), b"\xff\xd8\xff": ("JPEG", "image/jpeg")}


def signature_media_type(data: bytes) -> str | None:
    """``image/png`` or ``image/jpeg`` when ``data`` is such an image (by its first bytes and
    its header) that fpdf2 can draw; None for anything else. Size limits are the caller's."""
    kind = next((v for magic, v in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        return None
    image_format, media_type = kind
    try:
        # Pillow is fpdf2's own image library; its header tells the size before decoding
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if image.format != image_format or not 0 < width * height <= SIGNATURE_MAX_PIXELS:
                return None
        pdf = FPDF(unit="mm", format="A4")
        pdf.add_page()
        pdf.image(io.BytesIO(data), x=0, y=0, w=40)
    except Exception:  # noqa: BLE001 — whatever fails to load is no usable image
        return None
    return media_type


# --- QR codes -----------------------------------------------------------------------------


def _qr(url: str) -> segno.QRCode:
    return segno.make(url, error="m", boost_error=False, micro=False)


def qr_png(url: str, scale: int = 8) -> bytes:
    """The QR code of ``url`` (error correction level M) as PNG bytes."""
    buf = io.BytesIO()
    _qr(url).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as an inline ``<svg>`` element (no XML declaration).

    It has a ``viewBox`` so CSS can size it, and a default size of 4 px per module.
    """
    qr = _qr(url)
    width, height = qr.symbol_size(scale=4, border=4)
    svg = qr.svg_inline(scale=1, border=4, omitsize=True)
    return svg.replace("<svg ", f'<svg width="{width}" height="{height}" ', 1)


# --- helpers ------------------------------------------------------------------------------


def _new_pdf(orientation: str) -> FPDF:
    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.set_compression(True)
    pdf.set_title(_META)
    pdf.set_creator(_META)
    pdf.set_author(_META)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.add_font(_SANS, "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font(_SANS, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
    pdf.add_font(_MONO, "B", FONT_DIR / "DejaVuSansMono-Bold.ttf")
    return pdf


def _line_height(size: float, leading: float) -> float:
    return size * _PT * leading


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """The lines ``text`` breaks into at ``width`` with the current font."""
    if not text:
        return []
    # with output=LINES alone, multi_cell returns just the list of lines
    lines = cast(
        "list[str]",
        pdf.multi_cell(width, 5, text, dry_run=True, output=MethodReturnValue.LINES),
    )
    return [line.strip() for line in lines]


def _truncate(pdf: FPDF, line: str, width: float) -> str:
    """``line`` cut short with an ellipsis so that it fits ``width``."""
    line = line.rstrip()
    while line and pdf.get_string_width(line + _ELLIPSIS) > width:
        line = line[:-1].rstrip()
    return line + _ELLIPSIS


@dataclass
class _Block:
    family: str
    style: str
    size: float
    leading: float
    lines: list[str]

    @property
    def line_height(self) -> float:
        return _line_height(self.size, self.leading)

    @property
    def height(self) -> float:
        return len(self.lines) * self.line_height


def _fit(
    pdf: FPDF,
    text: str,
    *,
    width: float,
    max_height: float,
    sizes: Sequence[float],
    family: str = _SANS,
    style: str = "",
    leading: float = 1.25,
    max_lines: int | None = None,
) -> _Block:
    """Lay ``text`` out in ``width`` at the largest of ``sizes`` whose lines fit.

    When even the smallest size does not fit, the text is cut short with an ellipsis: the
    block never grows past ``max_height`` (nor ``max_lines``).
    """
    text = " ".join(text.split())
    lines: list[str] = []
    for size in sizes:
        pdf.set_font(family, style, size)
        lines = _wrap(pdf, text, width)
        fits = len(lines) * _line_height(size, leading) <= max_height + 1e-6
        if fits and (max_lines is None or len(lines) <= max_lines):
            return _Block(family, style, size, leading, lines)
    size = sizes[-1]
    pdf.set_font(family, style, size)
    keep = max(1, int((max_height + 1e-6) // _line_height(size, leading)))
    if max_lines is not None:
        keep = min(keep, max_lines)
    kept = lines[:keep]
    kept[-1] = _truncate(pdf, kept[-1], width)
    return _Block(family, style, size, leading, kept)


def _draw(
    pdf: FPDF,
    block: _Block,
    *,
    x: float,
    y: float,
    width: float,
    color: tuple[int, int, int] = _INK,
    align: str = "L",
) -> float:
    """Draw ``block`` with its top at ``y``; returns the y just below it."""
    pdf.set_font(block.family, block.style, block.size)
    pdf.set_text_color(*color)
    for line in block.lines:
        pdf.set_xy(x, y)
        pdf.cell(width, block.line_height, line, align=align)
        y += block.line_height
    return y


def _qr_image(pdf: FPDF, url: str, *, x: float, y: float, size: float) -> None:
    pdf.image(io.BytesIO(qr_png(url)), x=x, y=y, w=size, h=size, alt_text=url)


# --- activation cards ---------------------------------------------------------------------

_COLS, _ROWS = 2, 4
_PAD = 7.0  # inner margin of a card, in mm
_QR_MAX = 33.0
_QR_MIN = 22.0
_GAP = 4.0  # between the text column and the QR code
_CODE_BOX_H = 11.0
_CODE_FILL = (245, 241, 234)
_LOGIN_SIZE = 8.0  # the username line


def activation_cards_pdf(
    cards: list[Card], *, title: str, instructions: str, cohort: str, username_label: str = ""
) -> bytes:
    """A4 sheets of activation cards, 2 x 4 per page, with dashed lines to cut along. A card
    with a ``username`` shows it after ``username_label`` (e.g. "Nama pengguna"), above the
    code; its ``valid_until`` line comes under the instructions."""
    pdf = _new_pdf("portrait")
    card_w = pdf.w / _COLS
    card_h = pdf.h / _ROWS
    per_page = _COLS * _ROWS
    for start in range(0, max(len(cards), 1), per_page):
        pdf.add_page()
        page = cards[start : start + per_page]
        _cut_lines(pdf, card_w, card_h, rows=-(-len(page) // _COLS))
        for i, card in enumerate(page):
            col, row = i % _COLS, i // _COLS
            _draw_card(
                pdf,
                card,
                x=col * card_w,
                y=row * card_h,
                w=card_w,
                h=card_h,
                title=title,
                instructions=instructions,
                cohort=cohort,
                username_label=username_label,
            )
    return bytes(pdf.output())


def _cut_lines(pdf: FPDF, card_w: float, card_h: float, *, rows: int) -> None:
    """Dashed lines between the cards of the first ``rows`` rows (the page edges are cut)."""
    if rows <= 0:
        return
    pdf.set_draw_color(*_CUT)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    for col in range(1, _COLS):
        pdf.line(col * card_w, 0, col * card_w, rows * card_h)
    for row in range(1, min(rows + 1, _ROWS)):
        pdf.line(0, row * card_h, pdf.w, row * card_h)
    pdf.set_dash_pattern()


def _draw_card(
    pdf: FPDF,
    card: Card,
    *,
    x: float,
    y: float,
    w: float,
    h: float,
    title: str,
    instructions: str,
    cohort: str,
    username_label: str = "",
) -> None:
    left, top = x + _PAD, y + _PAD
    inner_w, inner_h = w - 2 * _PAD, h - 2 * _PAD
    bottom = top + inner_h

    # Header: a small brand mark and the title, across the card.
    pdf.set_fill_color(*_BRAND)
    pdf.rect(left, top + 0.1, 1.2, 3.4, style="F")
    head = _fit(
        pdf,
        title,
        width=inner_w - 3,
        max_height=_line_height(8, 1.2),
        sizes=(8, 7.5, 7, 6.5, 6),
        style="B",
        leading=1.2,
    )
    body_top = _draw(pdf, head, x=left + 3, y=top, width=inner_w - 3, color=_BRAND) + 2.5

    # Footer: the instructions, across the card, and under them until when the code works.
    until = _fit(
        pdf,
        card.valid_until,
        width=inner_w,
        max_height=_line_height(7.5, 1.3),
        sizes=(7.5, 7, 6.5, 6),
        style="B",
        leading=1.3,
        max_lines=1,
    )
    until_top = bottom - until.height
    _draw(pdf, until, x=left, y=until_top, width=inner_w, color=_INK)
    instr = _fit(
        pdf,
        instructions,
        width=inner_w,
        max_height=12 - until.height,
        sizes=(7.5, 7, 6.5, 6),
        leading=1.3,
    )
    instr_top = until_top - instr.height
    _draw(pdf, instr, x=left, y=instr_top, width=inner_w, color=_MUTED)

    # Just above them, the code in large letters on a tinted band (drawn below), and above
    # the band the username (drawn last, over the QR code's white quiet zone).
    box_top = instr_top - 2.5 - _CODE_BOX_H
    login_h = _line_height(_LOGIN_SIZE, 1.25) if card.username else 0.0
    login_top = box_top - (1.2 + login_h if card.username else 0.0)
    code = _fit(
        pdf,
        card.code,
        width=inner_w - 6,
        max_height=_CODE_BOX_H,
        sizes=(20, 18, 16, 14, 12, 10, 9, 8),
        family=_MONO,
        style="B",
        leading=1.15,
        max_lines=1,
    )

    # Between them: the QR code on the right (its white quiet zone may reach into the card's
    # margin), the participant on the left.
    room = login_top - 1.5 - body_top
    modules = _qr(card.url).symbol_size(scale=1, border=4)[0]
    qr_size = max(_QR_MIN, min(_QR_MAX, room * modules / (modules - 8)))
    quiet = qr_size * 4 / modules
    qr_x = left + inner_w - qr_size + quiet
    qr_y = body_top - quiet + max(0.0, (room - (qr_size - 2 * quiet)) / 2)
    _qr_image(pdf, card.url, x=qr_x, y=qr_y, size=qr_size)
    col_w = qr_x + quiet - _GAP - left

    # The band is drawn after the QR code so that it covers the code's white quiet zone.
    pdf.set_fill_color(*_CODE_FILL)
    pdf.rect(left, box_top, inner_w, _CODE_BOX_H, style="F", round_corners=True, corner_radius=1.8)
    code_y = box_top + (_CODE_BOX_H - code.height) / 2
    _draw(pdf, code, x=left, y=code_y, width=inner_w, color=_INK, align="C")

    meta = " \u00b7 ".join(part for part in (card.couple_code, card.role_label) if part)
    meta_block = _fit(
        pdf, meta, width=col_w, max_height=_line_height(8, 1.25), sizes=(8, 7.5, 7, 6.5)
    )
    cohort_block = _fit(
        pdf,
        cohort,
        width=col_w,
        max_height=2 * _line_height(8, 1.25),
        sizes=(8, 7.5, 7, 6.5),
        max_lines=2,
    )
    name_room = room - meta_block.height - cohort_block.height - 1.5
    name = _fit(
        pdf,
        card.name,
        width=col_w,
        max_height=max(name_room, _line_height(7, 1.15)),
        sizes=(13, 12, 11, 10, 9, 8, 7),
        style="B",
        leading=1.15,
        max_lines=4,
    )
    cy = _draw(pdf, name, x=left, y=body_top, width=col_w, color=_INK)
    cy += 1.5
    cy = _draw(pdf, meta_block, x=left, y=cy, width=col_w, color=_MUTED)
    _draw(pdf, cohort_block, x=left, y=cy, width=col_w, color=_MUTED)
    if card.username:
        _login_line(pdf, username_label, card.username, x=left, y=login_top, width=inner_w)


def _login_line(pdf: FPDF, label: str, username: str, *, x: float, y: float, width: float) -> None:
    """The username after its label on one line ("Nama pengguna: tng24-017a"): the label
    muted, the username in bold mono, cut short with an ellipsis if it does not fit."""
    height = _line_height(_LOGIN_SIZE, 1.25)
    pdf.set_text_color(*_MUTED)
    pdf.set_font(_SANS, "", _LOGIN_SIZE)
    prefix = f"{label}: " if label else ""
    prefix_w = pdf.get_string_width(prefix)
    if prefix:
        pdf.set_xy(x, y)
        pdf.cell(prefix_w, height, prefix)
    pdf.set_font(_MONO, "B", _LOGIN_SIZE)
    room = max(width - prefix_w, 1.0)
    if pdf.get_string_width(username) > room:
        username = _truncate(pdf, username, room)
    pdf.set_text_color(*_INK)
    pdf.set_xy(x + prefix_w, y)
    pdf.cell(room, height, username)


# --- certificate --------------------------------------------------------------------------


def certificate_pdf(
    *,
    name: str,
    cohort: str,
    date_text: str,
    code: str,
    verify_url: str,
    heading: str,
    body: str,
    verify_label: str,
    workshop: str = "",
    hours: str = "",
    organizers: str = "",
    signatory_title: str = "",
    signatory_name: str = "",
    signature: bytes | None = None,
    esign_label: str = "",
) -> bytes:
    """The participant's certificate: one A4 landscape page.

    Above, centred: ``heading``, the holder's ``name``, ``body`` ("has completed …"), the
    ``cohort``, the ``workshop`` line (dates and venue), ``hours`` (the JP line; empty for a
    spouse, whose certificate states no JP), ``organizers`` and ``date_text``. Below, left to
    right: the signatory block (``signatory_title``, the ``signature`` image when there is one
    — blank room otherwise — and ``signatory_name``), an empty framed area kept for an
    electronic signature, labelled ``esign_label`` (nothing is drawn in it), and the QR code
    to verify the certificate with its ``code`` and ``verify_url``. Long texts wrap, then get
    smaller, then are cut short: nothing leaves the page."""
    pdf = _new_pdf("landscape")
    pdf.add_page()
    page_w, page_h = pdf.w, pdf.h
    _certificate_border(pdf)

    # The bottom band: signatory, the reserved e-signature area, the verification.
    band_bottom = page_h - 26
    band_top = band_bottom - _BAND_H
    _verification(pdf, code=code, verify_url=verify_url, verify_label=verify_label, y=band_top)
    _signatory(
        pdf,
        title=signatory_title,
        name=signatory_name,
        signature=signature,
        x=_SIGN_X,
        y=band_top,
    )
    if esign_label:
        _esign_area(pdf, esign_label, x=_SIGN_X + _SIGN_W + 6, y=band_top)

    # The main texts, centred on the page above the band; smaller as a whole when long.
    text_w = page_w - 2 * 42
    x = (page_w - text_w) / 2
    area_top, area_bottom = 24.0, band_top - 5
    texts = _CertificateTexts(heading, name, body, cohort, workshop, hours, organizers, date_text)
    for scale in (1.0, 0.92, 0.85, 0.78, 0.7, 0.62):
        main = _main_blocks(pdf, texts, text_w=text_w, scale=scale)
        if main.height <= area_bottom - area_top:
            break
    y = area_top + max(0.0, (area_bottom - area_top - main.height) / 2)
    gaps = main.gaps
    body_w = text_w - 30
    y = _draw(pdf, main.head, x=x, y=y, width=text_w, color=_BRAND, align="C")
    y += gaps[0]
    _rule(pdf, page_w / 2, y, 50)
    y += gaps[1]
    y = _draw(pdf, main.who, x=x, y=y, width=text_w, color=_INK, align="C")
    y += gaps[2]
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(0.3)
    pdf.line(page_w / 2 - 70, y, page_w / 2 + 70, y)
    y += gaps[3]
    y = _draw(pdf, main.said, x=(page_w - body_w) / 2, y=y, width=body_w, color=_INK, align="C")
    y += gaps[4]
    y = _draw(pdf, main.group, x=x, y=y, width=text_w, color=_BRAND, align="C")
    optional = ((main.where, _INK, gaps[5]), (main.jp, _BRAND, gaps[6]), (main.by, _MUTED, gaps[7]))
    for block, color, gap in optional:
        if block is not None:
            y += gap
            y = _draw(pdf, block, x=x, y=y, width=text_w, color=color, align="C")
    y += gaps[8]
    _draw(pdf, main.when, x=x, y=y, width=text_w, color=_MUTED, align="C")
    return bytes(pdf.output())


# the certificate's bottom band (mm): signatory block, e-signature area, verification
_BAND_H = 36.0
_SIGN_X, _SIGN_W = 30.0, 82.0
_ESIGN_W = 50.0
_CERT_QR = 30.0
_INFO_W = 62.0


@dataclass(frozen=True)
class _CertificateTexts:
    heading: str
    name: str
    body: str
    cohort: str
    workshop: str
    hours: str
    organizers: str
    date_text: str


@dataclass(frozen=True)
class _MainBlocks:
    head: _Block
    who: _Block
    said: _Block
    group: _Block
    where: _Block | None
    jp: _Block | None
    by: _Block | None
    when: _Block
    gaps: list[float]

    @property
    def height(self) -> float:
        blocks = (self.head, self.who, self.said, self.group, self.where, self.jp, self.by)
        return sum(b.height for b in blocks if b is not None) + self.when.height + sum(self.gaps)


def _main_blocks(pdf: FPDF, t: _CertificateTexts, *, text_w: float, scale: float) -> _MainBlocks:
    """The centred texts at ``scale`` of their full sizes, and the gaps between them."""

    def sizes(*values: float) -> tuple[float, ...]:
        return tuple(round(v * scale, 2) for v in values)

    def fit(text: str, width: float, lines: int, size_list: tuple[float, ...], **kw) -> _Block:
        leading = kw.pop("leading", 1.25)
        return _fit(
            pdf,
            text,
            width=width,
            max_height=lines * _line_height(size_list[0], leading),
            sizes=size_list,
            leading=leading,
            max_lines=lines,
            **kw,
        )

    head = fit(t.heading, text_w, 2, sizes(26, 24, 22, 20, 18), style="B", leading=1.2)
    who = fit(t.name, text_w, 2, sizes(30, 28, 26, 24, 22, 20, 18, 16, 14), style="B", leading=1.15)
    said = fit(t.body, text_w - 30, 3, sizes(13, 12, 11, 10, 9), leading=1.35)
    group = fit(t.cohort, text_w, 2, sizes(14, 13, 12, 11, 10), style="B", leading=1.3)
    where = fit(t.workshop, text_w, 2, sizes(11, 10.5, 10, 9.5, 9)) if t.workshop else None
    jp = fit(t.hours, text_w, 2, sizes(12, 11, 10, 9), style="B") if t.hours else None
    by = fit(t.organizers, text_w, 2, sizes(10.5, 10, 9.5, 9, 8.5)) if t.organizers else None
    when = fit(t.date_text, text_w, 1, sizes(11, 10, 9))
    gaps = [g * scale for g in (4, 9, 2, 6, 4, 2.5, 2.5, 2, 2.5)]
    return _MainBlocks(head, who, said, group, where, jp, by, when, gaps)


def _verification(pdf: FPDF, *, code: str, verify_url: str, verify_label: str, y: float) -> None:
    """Bottom right: the QR code to verify the certificate, and beside it its code and
    where to check it."""
    qr_x = pdf.w - 26 - _CERT_QR
    qr_y = y + (_BAND_H - _CERT_QR)
    _qr_image(pdf, verify_url, x=qr_x, y=qr_y, size=_CERT_QR)
    info_x = qr_x - 1 - _INFO_W
    serial = _fit(
        pdf,
        code,
        width=_INFO_W,
        max_height=_line_height(11, 1.2),
        sizes=(11, 10, 9, 8, 7),
        family=_MONO,
        style="B",
        leading=1.2,
        max_lines=1,
    )
    label = _fit(pdf, verify_label, width=_INFO_W, max_height=7, sizes=(8, 7.5, 7), max_lines=2)
    # the address on one line when it fits at a readable size (a break reads as a space)
    link = _fit(
        pdf, verify_url, width=_INFO_W, max_height=4, sizes=(8, 7.5, 7, 6.5, 6), max_lines=1
    )
    if link.lines != [verify_url]:
        link = _fit(
            pdf, verify_url, width=_INFO_W, max_height=9, sizes=(8, 7.5, 7, 6.5, 6), max_lines=3
        )
    info_h = serial.height + 1.5 + label.height + link.height
    iy = qr_y + (_CERT_QR - info_h) / 2
    iy = _draw(pdf, serial, x=info_x, y=iy, width=_INFO_W, color=_INK, align="R")
    iy += 1.5
    iy = _draw(pdf, label, x=info_x, y=iy, width=_INFO_W, color=_MUTED, align="R")
    _draw(pdf, link, x=info_x, y=iy, width=_INFO_W, color=_BRAND, align="R")


def _signatory(
    pdf: FPDF, *, title: str, name: str, signature: bytes | None, x: float, y: float
) -> None:
    """The signatory block, centred in its column: the title, room for the signature (the
    image when there is one), a line and the name under it. Nothing without a title or
    name."""
    if not (title or name):
        return
    head = _fit(
        pdf, title, width=_SIGN_W, max_height=2 * _line_height(9, 1.25), sizes=(9, 8.5, 8, 7.5)
    )
    who = _fit(
        pdf,
        name,
        width=_SIGN_W,
        max_height=_line_height(10, 1.2),
        sizes=(10, 9.5, 9, 8.5, 8, 7.5),
        style="B",
        leading=1.2,
        max_lines=1,
    )
    _draw(pdf, head, x=x, y=y, width=_SIGN_W, color=_INK, align="C")
    name_y = y + _BAND_H - who.height
    room_top = y + head.height + 1
    room_h = name_y - 1.5 - room_top
    if signature and room_h > 4:
        pdf.image(
            io.BytesIO(signature),
            x=x + 10,
            y=room_top,
            w=_SIGN_W - 20,
            h=room_h,
            keep_aspect_ratio=True,
        )
    if name:
        pdf.set_draw_color(*_INK)
        pdf.set_line_width(0.25)
        pdf.line(x + 8, name_y - 0.8, x + _SIGN_W - 8, name_y - 0.8)
        _draw(pdf, who, x=x, y=name_y, width=_SIGN_W, color=_INK, align="C")


def _esign_area(pdf: FPDF, label: str, *, x: float, y: float) -> None:
    """An empty, framed area kept for an electronic signature (and its QR code) to be added
    by a signing service; only its label is printed in it, small, at the bottom."""
    pdf.set_draw_color(*_CUT)
    pdf.set_line_width(0.2)
    pdf.set_dash_pattern(dash=1.5, gap=1.2)
    pdf.rect(x, y, _ESIGN_W, _BAND_H, round_corners=True, corner_radius=1.5)
    pdf.set_dash_pattern()
    caption = _fit(
        pdf,
        label,
        width=_ESIGN_W - 4,
        max_height=2 * _line_height(7, 1.2),
        sizes=(7, 6.5, 6),
        leading=1.2,
    )
    _draw(
        pdf,
        caption,
        x=x + 2,
        y=y + _BAND_H - 1.5 - caption.height,
        width=_ESIGN_W - 4,
        color=_MUTED,
        align="C",
    )


def _certificate_border(pdf: FPDF) -> None:
    w, h = pdf.w, pdf.h
    pdf.set_draw_color(*_BRAND)
    pdf.set_line_width(1.6)
    pdf.rect(12, 12, w - 24, h - 24)
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(0.4)
    pdf.rect(16, 16, w - 32, h - 32)
    # Small gold squares in the corners of the inner frame.
    pdf.set_fill_color(*_GOLD)
    for cx, cy in ((16, 16), (w - 16, 16), (16, h - 16), (w - 16, h - 16)):
        pdf.rect(cx - 2, cy - 2, 4, 4, style="F")


def _rule(pdf: FPDF, cx: float, y: float, length: float) -> None:
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(0.6)
    pdf.line(cx - length / 2, y, cx + length / 2, y)
    pdf.set_fill_color(*_GOLD)
    pdf.rect(cx - 1.3, y - 1.3, 2.6, 2.6, style="F")
