"""Claim packs for carriers without a claims API: their own form, pre-filled, plus evidence and pre-checks.

One table, `CLAIM_FORMS`, holds each carrier's form as data (field labels in the carrier's order, each
naming a value in `FIELD_VALUES`); `claim_pack` fills it from a ClaimRequest. Facts are from
../shared/claims/CARRIER-RULES.md §2a (source keys in brackets) and change often: keep them current there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carriers.claims.model import AttachmentRole, ClaimNotSupported, ClaimRequest


@dataclass(frozen=True)
class ClaimForm:
    """A carrier's claim channel: where, who files, the form's fields, evidence to attach, checks first."""

    portal_url: str
    channel: str
    who_files: str
    fields: tuple[tuple[str, str], ...]  # (carrier's label, key in FIELD_VALUES)
    evidence: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    sources: str = ""


@dataclass(frozen=True)
class PackField:
    """One form field with its pre-filled value; `value == ""` means staff must supply it."""

    label: str
    value: str

    @property
    def missing(self) -> bool:
        """Whether the request had nothing for this field."""
        return not self.value


@dataclass(frozen=True)
class ClaimPack:
    """Everything staff need to file one claim by hand on the carrier's portal."""

    carrier: str
    reference: str
    portal_url: str
    channel: str
    who_files: str
    fields: tuple[PackField, ...]
    evidence: tuple[str, ...]
    checks: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """Labels of the fields still to fill in."""
        return tuple(f.label for f in self.fields if f.missing)


def _files(role: AttachmentRole) -> Callable[[ClaimRequest], str]:
    return lambda r: ", ".join(a.filename for a in r.attachments if a.role is role)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


FIELD_VALUES: dict[str, Callable[[ClaimRequest], str]] = {
    "tracking_number": lambda r: r.tracking_number,
    "reference": lambda r: r.reference,
    "kind": lambda r: r.kind.value.replace("_", " "),
    "amount": lambda r: f"{r.amount:.2f} {r.currency}",
    "amount_excl_vat": lambda r: f"{r.amount_excl_vat:.2f} {r.currency}",
    "ship_date": lambda r: r.ship_date.isoformat(),
    "received_on": lambda r: r.received_on.isoformat() if r.received_on else "",
    "parcels_affected": lambda r: str(r.parcels_affected),
    "parcel_weights": lambda r: ", ".join(f"{w} kg" for w in r.parcel_weights_kg),
    "description": lambda r: r.description,
    "repairable": lambda r: _yes_no(r.repairable),
    "goods_location": lambda r: r.goods_location,
    "sender": lambda r: r.sender.one_line(),
    "recipient": lambda r: r.recipient.one_line(),
    "contact": lambda r: ", ".join(p for p in (r.contact.name, r.contact.email, r.contact.phone) if p),
    "invoice": _files(AttachmentRole.INVOICE),
    "photos": _files(AttachmentRole.PHOTO),
    "correspondence": _files(AttachmentRole.CORRESPONDENCE),
}

_KEEP_GOODS = "Recipient keeps the outer box, packing and item until the claim is settled."
_NORDIC_EVIDENCE = (
    "Sales or purchase invoice (amount excl. VAT)",
    "Photos of the outer box, the inner packing and the damaged item",
    _KEEP_GOODS,
)

CLAIM_FORMS: dict[str, ClaimForm] = {
    "postnord": ClaimForm(
        portal_url="https://www.postnord.no/en/business/customer-service/compensation/submit-a-compensation-claim",
        channel="PostNord MyPage / compensation claim form",
        who_files="The freight payer (usually the sender)",
        fields=(
            ("Shipment number", "tracking_number"),
            ("Claimed amount excl. VAT", "amount_excl_vat"),
            ("Commercial invoice", "invoice"),
            ("Date of receipt", "received_on"),
            ("Number of parcels damaged or missing", "parcels_affected"),
            ("Weight per parcel", "parcel_weights"),
            ("Description of the damage or shortage", "description"),
            ("Photos", "photos"),
            ("Can the goods be repaired?", "repairable"),
            ("Where are the goods now?", "goods_location"),
            ("Contact", "contact"),
        ),
        evidence=_NORDIC_EVIDENCE,
        checks=(
            "Hidden damage reported within 7 working days (SE) / without undue delay (NO)",
            "Lost: deemed lost 30 days after acceptance (national)",
        ),
        sources="[PN2][PN1][PN4]",
    ),
    "bring": ClaimForm(
        portal_url="https://www.bring.no/kundeservice/reklamasjon",
        channel="Mybring web claim",
        who_files="The sender or freight payer; the recipient tells the seller",
        fields=(
            ("Shipment number", "tracking_number"),
            ("Type of claim", "kind"),
            ("Claimed amount excl. VAT", "amount_excl_vat"),
            ("Invoice", "invoice"),
            ("Date delivered", "received_on"),
            ("Weight per parcel", "parcel_weights"),
            ("Description of contents and packaging", "description"),
            ("Photos", "photos"),
            ("Can the goods be repaired?", "repairable"),
            ("Sender", "sender"),
            ("Recipient", "recipient"),
            ("Contact", "contact"),
        ),
        evidence=(*_NORDIC_EVIDENCE, "Proof of hand-in"),
        checks=(
            "Hidden damage reported within 7 calendar days of delivery",
            "Claims time-barred after 1 year",
        ),
        sources="[B1][B2][B3][B5]",
    ),
    "dhl": ClaimForm(
        portal_url="https://mydhl.express.dhl/us/en/help-and-support/contact-us/claims/claims-faqs.html",
        channel="Claim form or e-mail (after a completed trace)",
        who_files="The bill-to party (account holder) or the shipper",
        fields=(
            ("Waybill number", "tracking_number"),
            ("Type of claim", "kind"),
            ("Claimed amount", "amount"),
            ("Shipment date", "ship_date"),
            ("Description of contents", "description"),
            ("Commercial invoice", "invoice"),
            ("Photos", "photos"),
            ("Shipper", "sender"),
            ("Receiver", "recipient"),
            ("Contact", "contact"),
        ),
        evidence=("Commercial invoice", "Photos of packaging and damage", _KEEP_GOODS),
        checks=("Filed within 30 days after DHL accepted the shipment (all claims)",),
        sources="[D1][D5]",
    ),
    "ups": ClaimForm(
        portal_url="https://www.ups.com/claims",
        channel="ups.com/claims (no public claims API)",
        who_files="Shipper or receiver may report; claim number and payment go to the shipper of record",
        fields=(
            ("Tracking number", "tracking_number"),
            ("Claim type", "kind"),
            ("Merchandise value", "amount"),
            ("Ship date", "ship_date"),
            ("Merchandise description", "description"),
            ("Invoice", "invoice"),
            ("Photos", "photos"),
            ("Shipper", "sender"),
            ("Receiver", "recipient"),
            ("Contact", "contact"),
        ),
        evidence=("Invoice or proof of value", "Photos of box and damage", _KEEP_GOODS),
        checks=(
            "Not blocked by a shipper restriction on the account",
            "Account authenticated",
            "Not a driver-released parcel",
            "Inside the liability period (notice 60 days, claim 9 months US domestic)",
            "No investigation already open",
        ),
        sources="[U1][U2][U3][SR1]",
    ),
    "fedex": ClaimForm(
        portal_url="https://www.fedex.com/en-us/customer-support/claims.html",
        channel="fedex.com claims online, e-mail or fax",
        who_files="Sender, recipient or a third party",
        fields=(
            ("Tracking number", "tracking_number"),
            ("Claim type", "kind"),
            ("Amount claimed", "amount"),
            ("Ship date", "ship_date"),
            ("Description of contents", "description"),
            ("Proof of value", "invoice"),
            ("Photos", "photos"),
            ("Shipper", "sender"),
            ("Recipient", "recipient"),
            ("Contact", "contact"),
        ),
        evidence=("Invoice or proof of value", "Photos of packaging and damage", _KEEP_GOODS),
        checks=(
            "Damage: within 21 days (Express international) / 60 days (US) of delivery",
            "Non-delivery: within 9 months of tender",
        ),
        sources="[F1][F2][F3]",
    ),
    "gls": ClaimForm(
        portal_url="https://gls-group.eu/CZ/en/complaints",
        channel="E-mail or web form of the GLS company in the sending country",
        who_files="The contracting party / payer (GLS is liable to the sender)",
        fields=(
            ("Parcel number", "tracking_number"),
            ("Type of claim", "kind"),
            ("Claimed amount", "amount"),
            ("Description", "description"),
            ("Invoice", "invoice"),
            ("Photos of all sides and the inner packing", "photos"),
            ("Date of receipt", "received_on"),
            ("Sender", "sender"),
            ("Recipient", "recipient"),
            ("Contact", "contact"),
        ),
        evidence=("Invoice", "Photos of all sides of the parcel and the inner packing", _KEEP_GOODS),
        checks=("Missing contents (DK): reported within 5 working days",),
        sources="[G2][G3]",
    ),
    "thailandpost": ClaimForm(
        portal_url="https://international.thailandpost.com/faq_cat/customer-support-th/",
        channel="Inquiry by web form, e-mail, phone 1545 or at the posting office",
        who_files="The sender (inquiry at the posting office)",
        fields=(
            ("Item number", "tracking_number"),
            ("Posting date", "ship_date"),
            ("Problem", "kind"),
            ("Value of contents", "amount"),
            ("Description of contents", "description"),
            ("Sender", "sender"),
            ("Addressee", "recipient"),
            ("Contact", "contact"),
        ),
        evidence=("Posting receipt", "Proof of value"),
        checks=("Investigation takes about 30 working days",),
        sources="[T1][T2]",
    ),
    "usps": ClaimForm(
        portal_url="https://www.usps.com/help/claims.htm",
        channel="usps.com domestic claims (or the Indemnity Claims API)",
        who_files="Sender or recipient",
        fields=(
            ("Mailing receipt / label number", "tracking_number"),
            ("What is the problem?", "kind"),
            ("Date of mailing", "ship_date"),
            ("Amount claimed", "amount"),
            ("Description of contents", "description"),
            ("Proof of value", "invoice"),
            ("Photos of damage", "photos"),
            ("Mailer", "sender"),
            ("Addressee", "recipient"),
            ("Contact", "contact"),
        ),
        evidence=(
            "Evidence of insurance (mailing receipt or online label record)",
            "Proof of value (sales receipt, invoice or online transaction printout)",
            "Damaged item and all packaging kept until the claim is resolved",
        ),
        checks=(
            "Lost: not before 15 days after mailing (7 for Priority Mail Express)",
            "Not later than 60 days after mailing",
        ),
        sources="[US1][US2][US3][US4]",
    ),
}


def claim_pack(carrier: str, request: ClaimRequest) -> ClaimPack:
    """The carrier's claim form pre-filled from `request`; ClaimNotSupported for carriers not in the table."""
    form = CLAIM_FORMS.get(carrier)
    if form is None:
        raise ClaimNotSupported(f"{carrier}: no claim form on file")
    return ClaimPack(
        carrier=carrier,
        reference=request.reference,
        portal_url=form.portal_url,
        channel=form.channel,
        who_files=form.who_files,
        fields=tuple(PackField(label, FIELD_VALUES[key](request)) for label, key in form.fields),
        evidence=form.evidence,
        checks=form.checks,
    )
