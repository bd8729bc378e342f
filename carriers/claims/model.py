"""The claims vocabulary: what we ask a carrier to pay for, what it answered, and the errors on the way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from carriers.errors import CarrierError


class ClaimKind(StrEnum):
    """What happened to the parcel."""

    LOST = "lost"
    DAMAGED = "damaged"
    MISSING_CONTENTS = "missing_contents"
    DELIVERED_NOT_RECEIVED = "delivered_not_received"
    RETURNED = "returned"


class ClaimStatus(StrEnum):
    """Normalised carrier-side claim status."""

    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    NEEDS_INFORMATION = "needs_information"
    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    PAID = "paid"
    CANCELLED = "cancelled"


FINAL_CLAIM_STATUSES = frozenset({ClaimStatus.DENIED, ClaimStatus.PAID, ClaimStatus.CANCELLED})


class AttachmentRole(StrEnum):
    """Why a file is attached; carriers sort evidence into these buckets."""

    INVOICE = "invoice"  # proof of value
    PHOTO = "photo"  # outer box, inner packing, damaged item
    CORRESPONDENCE = "correspondence"  # e-mails with the customer
    OTHER = "other"


@dataclass(frozen=True)
class Attachment:
    """One evidence file."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)
    role: AttachmentRole = AttachmentRole.OTHER


@dataclass(frozen=True)
class Address:
    """A postal address as carriers' claim forms ask for it."""

    name: str
    street1: str
    city: str
    postcode: str
    country: str  # ISO 3166-1 alpha-2
    street2: str = ""
    state: str = ""
    company: str = ""

    def one_line(self) -> str:
        """The address on one line, for forms with a single free-text field."""
        parts = (self.company, self.name, self.street1, self.street2, f"{self.postcode} {self.city}".strip())
        return ", ".join(p for p in (*parts, self.state, self.country) if p)


@dataclass(frozen=True)
class Contact:
    """Who the carrier should talk to about the claim."""

    name: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class ClaimRequest:
    """Everything needed to file one claim; `reference` is ours and doubles as the idempotency key."""

    reference: str
    carrier: str
    tracking_number: str
    kind: ClaimKind
    amount: Decimal  # what we claim, in `currency`
    currency: str  # ISO 4217
    description: str
    contact: Contact
    ship_date: date
    sender: Address
    recipient: Address
    attachments: tuple[Attachment, ...] = ()
    vat_amount: Decimal = Decimal(0)  # VAT inside `amount`; Nordic carriers want the amount without it
    received_on: date | None = None  # when the recipient got the (damaged) parcel
    parcels_affected: int = 1
    parcel_weights_kg: tuple[Decimal, ...] = ()
    repairable: bool | None = None
    goods_location: str = ""  # where the goods are now (kept for inspection)

    def __post_init__(self) -> None:
        if not self.reference.strip():
            raise ValueError("a claim needs our reference")
        if self.amount <= 0 or not 0 <= self.vat_amount < self.amount:
            raise ValueError("amount must be positive and larger than its VAT")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError("currency must be an ISO 4217 code such as 'USD'")

    @property
    def amount_excl_vat(self) -> Decimal:
        """The claimed amount without VAT."""
        return self.amount - self.vat_amount


@dataclass(frozen=True)
class ClaimEvent:
    """One step of the carrier's claim history."""

    at: datetime
    status: ClaimStatus
    carrier_status: str
    detail: str = ""


@dataclass(frozen=True)
class CarrierClaimStatus:
    """What the carrier says about one claim now."""

    carrier: str
    carrier_claim_id: str
    status: ClaimStatus
    carrier_status: str  # the carrier's own word, kept for staff
    tracking_number: str = ""
    reference: str = ""  # our reference, when the carrier echoes it
    detail: str = ""
    updated_at: datetime | None = None
    requested_amount: Decimal | None = None
    approved_amount: Decimal | None = None  # known once the carrier decided
    currency: str = "USD"
    history: tuple[ClaimEvent, ...] = ()  # oldest first
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class FiledClaim:
    """A claim the carrier accepted; filing the same request again returns the same carrier claim."""

    carrier: str  # the claims API holding it (an aggregator's claim for a USPS label says "easypost")
    reference: str
    carrier_claim_id: str
    status: ClaimStatus
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


class ClaimRejected(CarrierError):
    """The carrier refused the claim as sent (validation, not eligible, duplicate filed elsewhere)."""

    kind = "claim_rejected"
    retryable = False


class ClaimNotFound(CarrierError):
    """The carrier does not know this claim id."""

    kind = "claim_not_found"
    retryable = False


class ClaimNotSupported(CarrierError):
    """This carrier cannot take this claim through its API (no such claim type, currency, or no API)."""

    kind = "claim_not_supported"
    retryable = False
