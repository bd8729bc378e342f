"""The evidence pack of a claim: one PDF a carrier's claims desk accepts (the parcel, its value and route,
the customer's statement, the full tracking history, the detection evidence, the audit trail, the photos and
every file's checksum), and a zip of that PDF with the original files."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, XPos, YPos
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from app.claims.evidence import read
from app.extensions import db
from app.models import Claim, ClaimAttachment, Shipment, Shop, TrackingEvent
from app.models.types import utcnow
from carriers.registry import DISPLAY_NAMES

FONT_DIR = Path("/usr/share/fonts")
# DejaVu (Debian fonts-dejavu-core) covers Latin, Greek and Cyrillic but not Thai; these cover Thai when
# installed (fonts-tlwg-loma-ttf, fonts-noto-core) and are used for the characters DejaVu lacks.
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
_FALLBACKS = ("Loma.ttf", "NotoSansThai-Regular.ttf", "Garuda.ttf", "Waree.ttf")
_PHOTO_BOX = (180.0, 110.0)  # mm: the most a photo takes, so two fit on an A4 page


@dataclass(frozen=True)
class PdfFonts:
    """The TrueType files the pack is set in; without `regular` it falls back to the core Helvetica."""

    regular: Path | None = None
    bold: Path | None = None
    fallbacks: tuple[Path, ...] = ()


@dataclass(frozen=True)
class PackFile:
    """An attachment with its stored bytes (None when the file is missing from storage)."""

    attachment: ClaimAttachment
    data: bytes | None

    @property
    def is_image(self) -> bool:
        """A photo to embed (the content type was judged from the bytes when it was attached)."""
        return self.attachment.content_type.startswith("image/")


@lru_cache(maxsize=4)
def find_fonts(root: Path = FONT_DIR) -> PdfFonts:
    """The Unicode fonts installed under `root` (searched once per process)."""
    found: dict[str, Path] = {}
    if root.is_dir():
        for path in sorted(root.rglob("*.ttf")):
            found.setdefault(path.name, path)
    regular = found.get(_REGULAR)
    return PdfFonts(
        regular=regular,
        bold=found.get(_BOLD, regular) if regular else None,
        fallbacks=tuple(found[name] for name in _FALLBACKS if name in found) if regular else (),
    )


def load_files(claim: Claim) -> list[PackFile]:
    """Every attachment of `claim` with its bytes, oldest first."""
    files = []
    for attachment in claim.attachments:
        try:
            data = read(attachment)
        except FileNotFoundError:
            data = None
        files.append(PackFile(attachment, data))
    return files


def pdf_filename(claim: Claim) -> str:
    """The pack's file name, e.g. `C-ABCD234-evidence.pdf`."""
    return f"{claim.reference}-evidence.pdf"


def build_pdf(
    claim: Claim,
    files: list[PackFile] | None = None,
    *,
    fonts: PdfFonts | None = None,
    now: datetime | None = None,
) -> bytes:
    """The evidence pack of `claim` as PDF bytes."""
    shipment = db.session.get(Shipment, claim.shipment_id)
    shop = db.session.get(Shop, claim.shop_id)
    files = load_files(claim) if files is None else files
    now = now or utcnow()
    pdf = _PackPdf(fonts or find_fonts(), f"{shop.name} · claim {claim.reference}", now)
    pdf.set_title(f"Claim {claim.reference} evidence pack")
    pdf.set_subject(f"{_carrier(shipment)} {shipment.tracking_number}")
    pdf.set_author(shop.name)
    pdf.set_creator("Leveranse")
    pdf.set_creation_date(now)
    pdf.add_page()

    pdf.heading(f"Claim {claim.reference}", size=16)
    pdf.facts(
        [
            ("Shop", shop.name),
            ("Claim reference", claim.reference),
            ("Carrier", _carrier(shipment)),
            ("Carrier claim number", claim.carrier_claim_id or "not assigned yet"),
            ("Tracking number", shipment.tracking_number),
            ("Order reference", shipment.order_ref),
            ("Claim kind", _words(claim.kind)),
            ("State", _words(claim.state)),
            ("Opened", _utc(claim.opened_at)),
            ("Submitted", _utc(claim.submitted_at)),
        ]
    )
    pdf.heading("Value")
    pdf.facts(
        [
            ("Declared value", _money(shipment.declared_value, shipment.currency)),
            ("Currency", shipment.currency or claim.currency),
            ("Weight", f"{shipment.weight_kg.normalize():f} kg" if shipment.weight_kg is not None else None),
            ("Claimed amount", _money(claim.claim_amount, claim.currency)),
            ("Carrier liability cap", _money(claim.carrier_cap, claim.currency)),
            ("Above the cap (not claimed)", _money(claim.uncovered_amount, claim.currency)),
        ]
    )
    pdf.heading("Route")
    pdf.facts(
        [
            ("Sender", _place(shipment.origin_postcode, shipment.origin_country)),
            ("Recipient", _place(shipment.destination_postcode, shipment.destination_country)),
            ("Handed to the carrier", _utc(shipment.shipped_at)),
            ("Promised delivery", shipment.promised_date.isoformat() if shipment.promised_date else None),
            ("Delivered", _utc(shipment.delivered_at)),
        ]
    )
    pdf.heading("Customer's statement")
    pdf.paragraph(claim.customer_statement or "No statement was given.")

    pdf.heading("Tracking history")
    events = db.session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment.id)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    ).all()
    pdf.rows(
        ("Time (local)", "Carrier code", "Description", "Location"),
        [(_local(e), e.carrier_code, e.description, e.location) for e in events],
        widths=(22, 16, 40, 22),
        empty="The carrier reported no events.",
    )
    pdf.heading("Detection")
    pdf.facts(
        [("Source", claim.source), ("Rule", claim.rule)]
        + [(_words(key), _plain(value)) for key, value in (claim.evidence or {}).items()]
    )
    pdf.heading("Audit trail")
    pdf.rows(
        ("Time (UTC)", "Actor", "Action", "State", "Note"),
        [
            (_utc(e.at), e.actor, e.action, _states(e.from_state, e.to_state), e.note or "")
            for e in claim.events
        ],
        widths=(18, 20, 14, 20, 28),
        empty="No events.",
    )
    pdf.heading("Files")
    pdf.file_list(files)
    photos = [f for f in files if f.is_image and f.data is not None]
    if photos:
        pdf.add_page()
        pdf.heading("Photos")
        for number, photo in enumerate(photos, start=1):
            pdf.photo(number, photo)
    return bytes(pdf.output())


def build_zip(claim: Claim, *, fonts: PdfFonts | None = None, now: datetime | None = None) -> bytes:
    """A zip of the evidence PDF and the original files, as attached."""
    files = load_files(claim)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(pdf_filename(claim), build_pdf(claim, files, fonts=fonts, now=now))
        for number, item in enumerate(files, start=1):
            if item.data is not None:
                # The number keeps two files of the same name apart.
                archive.writestr(f"files/{number:02d}-{item.attachment.filename}", item.data)
    return buffer.getvalue()


class _PackPdf(FPDF):
    """A4 pages with a running header and numbered footer; text the fonts cannot show becomes '?'."""

    def __init__(self, fonts: PdfFonts, running_title: str, generated: datetime) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=16)
        if fonts.regular is not None:
            self.add_font("body", "", fonts.regular)
            self.add_font("body", "B", fonts.bold or fonts.regular)
            names = []
            for number, path in enumerate(fonts.fallbacks):
                self.add_font(f"fallback{number}", "", path)
                names.append(f"fallback{number}")
            if names:
                self.set_fallback_fonts(names, exact_match=False)
            self.body_font = "body"
            self._covered = frozenset().union(
                *(font.cmap for key, font in self.fonts.items() if key != "bodyb")
            )
        else:
            self.body_font = "helvetica"
            self._covered = None
        self.running_title = self.clean(running_title)
        self.generated = generated
        self.set_font(self.body_font, size=10)

    def clean(self, text: object) -> str:
        """`text` as a string every character of which the fonts can show."""
        value = str(text)
        if self._covered is None:
            return value.encode("latin-1", "replace").decode("latin-1")
        return "".join(ch if ch in "\n" or ord(ch) in self._covered else "?" for ch in value)

    def header(self) -> None:
        self.set_font(self.body_font, size=8)
        self.set_text_color(110)
        self.cell(0, 5, self.running_title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_font, size=8)
        self.set_text_color(110)
        stamp = f"Generated {self.generated.astimezone(UTC):%Y-%m-%d %H:%M} UTC by Leveranse"
        self.cell(0, 5, f"{stamp} · page {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0)

    def heading(self, text: str, *, size: int = 12) -> None:
        self.ln(2)
        self.set_font(self.body_font, "B", size)
        self.multi_cell(0, size * 0.55, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.body_font, size=10)
        self.ln(1)

    def paragraph(self, text: str) -> None:
        self.multi_cell(0, 5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def facts(self, pairs: list[tuple[str, object]]) -> None:
        """Label and value lines; missing values show as a dash so a blank never reads as an omission."""
        with self.table(
            col_widths=(60, 120),
            first_row_as_headings=False,
            borders_layout=TableBordersLayout.NONE,
            text_align="LEFT",
            line_height=5,
            padding=(0.5, 1),
        ) as table:
            for label, value in pairs:
                row = table.row()
                row.cell(self.clean(label))
                row.cell(self.clean("-" if value is None or value == "" else value))

    def rows(self, headings: tuple[str, ...], rows: list[tuple], *, widths: tuple, empty: str) -> None:
        if not rows:
            self.paragraph(empty)
            return
        self.set_font(self.body_font, size=8)
        with self.table(
            col_widths=widths,
            text_align="LEFT",
            line_height=4,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            padding=(0.8, 1),
        ) as table:
            table.row([self.clean(h) for h in headings])
            for values in rows:
                table.row([self.clean(value or "") for value in values])
        self.set_font(self.body_font, size=10)

    def file_list(self, files: list[PackFile]) -> None:
        if not files:
            self.paragraph("No files are attached.")
            return
        for number, item in enumerate(files, start=1):
            a = item.attachment
            missing = "" if item.data is not None else " - MISSING FROM STORAGE"
            self.paragraph(
                f"{number}. {a.filename} ({a.content_type}, {a.size:,} bytes), uploaded by {a.uploaded_by} "
                f"at {_utc(a.created_at)}{missing}"
            )
            self.set_font(self.body_font, size=8)
            self.paragraph(f"    SHA-256 {a.sha256}")
            self.set_font(self.body_font, size=10)

    def photo(self, number: int, item: PackFile) -> None:
        caption = f"{number}. {item.attachment.filename}"
        try:
            with Image.open(io.BytesIO(item.data)) as image:
                width, height = image.size
                # fpdf2 embeds JPEG and PNG as they are; other formats go in as PNG of the first frame.
                data = item.data if image.format in ("JPEG", "PNG") else _as_png(image)
        except (UnidentifiedImageError, OSError, ValueError) as error:
            self.paragraph(f"{caption}: could not be embedded ({error}).")
            return
        scale = min(_PHOTO_BOX[0] / width, _PHOTO_BOX[1] / height)
        w, h = width * scale, height * scale
        if self.will_page_break(h + 8):
            self.add_page()
        self.paragraph(caption)
        self.image(io.BytesIO(data), w=w, h=h)
        self.ln(4)


def _as_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, format="PNG")
    return out.getvalue()


def _carrier(shipment: Shipment) -> str:
    return DISPLAY_NAMES.get(shipment.carrier, shipment.carrier)


def _words(value: object) -> str:
    return str(value).replace("_", " ")


def _money(amount: Decimal | None, currency: str | None = None) -> str | None:
    if amount is None:
        return None
    return f"{amount:,.2f} {currency or ''}".strip()


def _place(postcode: str | None, country: str | None) -> str | None:
    return " ".join(part for part in (postcode, country) if part) or None


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else None


def _local(event: TrackingEvent) -> str:
    """The scan's time where it happened, with its UTC offset (the carrier's own clock)."""
    offset = event.utc_offset_minutes
    zone = timezone(timedelta(minutes=offset)) if offset is not None else UTC
    stamp = event.occurred_at.astimezone(zone).isoformat(" ", "minutes")
    return stamp + (" (zone assumed)" if event.tz_assumed else "")


def _states(before: str | None, after: str | None) -> str:
    if before and before != after:
        return f"{_words(before)} -> {_words(after)}"
    return _words(after or "")


def _plain(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
