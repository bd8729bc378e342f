"""`leveranse carriers ...`: parse carrier payloads offline, detect carriers from numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli import LazyChoice

if TYPE_CHECKING:
    from carriers.errors import CarrierError

# No app context: these commands work on payloads and numbers only.
group = click.Group("carriers", help="Carrier payloads and tracking numbers.")

ERROR_EXIT = 3


def _print(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _fail(error: CarrierError) -> None:
    from carriers.serialize import error_to_dict

    _print(error_to_dict(error))
    raise click.exceptions.Exit(ERROR_EXIT)


def _parser_codes() -> list[str]:
    from carriers.registry import PARSERS

    return sorted(PARSERS)


@group.command("parse")
@click.argument("carrier", type=LazyChoice(_parser_codes))
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
def parse_command(carrier: str, file: Path) -> None:
    """Parse a saved CARRIER payload FILE and print the normalised updates as JSON (exit 3 on errors)."""
    from carriers.errors import CarrierError, MalformedPayload, TrackingFailure
    from carriers.registry import PARSERS
    from carriers.serialize import failure_to_dict, update_to_dict

    try:
        results = PARSERS[carrier](file.read_bytes())
    except OSError as exc:
        _fail(MalformedPayload(f"cannot read {file}: {exc.strerror or exc}"))
        return
    except CarrierError as exc:
        _fail(exc)
        return
    failures = [item for item in results if isinstance(item, TrackingFailure)]
    updates = [item for item in results if not isinstance(item, TrackingFailure)]
    if failures and not updates:
        _fail(failures[0].error)
    for failure in failures:
        click.echo(json.dumps(failure_to_dict(failure), ensure_ascii=False), err=True)
    _print([update_to_dict(update) for update in updates])


@group.command("detect")
@click.argument("tracking_number")
def detect_command(tracking_number: str) -> None:
    """Print the candidate carriers for TRACKING_NUMBER, best first."""
    from carriers.numbers import detect_carriers

    _print(detect_carriers(tracking_number))


@group.command("mapping")
def mapping_command() -> None:
    """Print every carrier's code → normalised status table (Markdown, as in the README)."""
    from carriers.mapping_doc import mapping_markdown

    click.echo(mapping_markdown())
