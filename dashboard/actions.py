"""What the dashboard changes or builds on request: record an intervention, build the evidence file (of
one customer, or of the customers a what-if would let go, in one archive).

No streamlit here. Both use the health model's own functions (customer_health.health), so the CLI and
the dashboard record and build exactly the same way; errors come back as ActionError with the Quack
token redacted.
"""

from __future__ import annotations

import html
import io
import zipfile

import duckdb

from customer_health.errors import UserError
from customer_health.health.dossier import render_html, render_markdown
from customer_health.health.interventions import note_problem as health_note_problem
from customer_health.health.interventions import record_intervention
from customer_health.health.queries import dossier_data
from customer_health.health.what_if import evidence_archive as health_evidence_archive
from dashboard.source import DataError, DataSource


class ActionError(Exception):
    """The action did not happen; the message says why (one line, no secrets)."""


def record(source: DataSource, customer_id: str, step: str, note: str, recorded_by: str) -> None:
    """Record that ``step`` was tried with the customer, by ``recorded_by`` (a signed-in identity when
    sign-in is on): through the running pipeline when there is one, else in the file; with store =
    "ducklake" in the lake, checked on the dashboard's copy of the lake, which holds it at once."""
    try:
        if source.settings.store == "ducklake":
            source.read(lambda db: record_intervention(source.settings, customer_id=customer_id, step=step,
                                                       note=note, recorded_by=recorded_by, reader=db))
        else:
            record_intervention(source.settings, customer_id=customer_id, step=step, note=note,
                                recorded_by=recorded_by)
    except DataError as exc:
        raise ActionError(str(exc)) from None
    except (UserError, ValueError) as exc:
        raise ActionError(source.redact(str(exc))) from None
    except duckdb.Error as exc:
        raise ActionError(source.redact(str(exc).splitlines()[0])) from None


def note_problem(step: str, note: str) -> str | None:
    """Why ``note`` is not enough to record ``step`` (None: it is): the health model's own rule."""
    return health_note_problem(step, note)


def dossier(source: DataSource, customer_id: str) -> tuple[str, str]:
    """The customer's evidence file as (html, markdown), the same as `customer-health dossier` writes;
    on failure a short page saying why."""
    try:
        data = source.read(lambda db: dossier_data(db, source.settings, customer_id))
        return render_html(data), render_markdown(data)
    except (UserError, DataError) as exc:
        message = f"The evidence file for {customer_id} could not be built: {exc}"
        return f"<p>{html.escape(message)}</p>", message


def evidence_archive(source: DataSource, customer_ids: list[str]) -> bytes:
    """The zip of the evidence files of ``customer_ids``, as `customer-health what-if --archive` writes it; on
    failure a zip holding one text file saying why."""
    try:
        return source.read(lambda db: health_evidence_archive(db, source.settings, customer_ids))
    except (UserError, DataError) as exc:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("not-built.txt", f"The evidence files could not be built: {exc}\n")
        return buffer.getvalue()
