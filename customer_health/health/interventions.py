"""Record that a playbook step was tried with a customer (CLI `intervene`, the dashboard).

With a pipeline serving the database the insert runs on the pipeline through Quack; without one the
database is opened read-write for the moment of the insert. With ``store = "ducklake"`` it is checked
against a reader's copy of the lake and recorded in the lake (customer_health.health.lake), where readers
and pipelines take it. Recommendations take interventions into account at read time (customer_health), so
the next step changes at once either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from customer_health import sqlfiles
from customer_health.clock import model_now, utc_now
from customer_health.config import Settings
from customer_health.db import open_owner, open_reader
from customer_health.errors import UserError
from customer_health.health import lake
from customer_health.jsonsafe import jsonable
from customer_health.vocabulary import STEPS

# A note says what was done (for an exit: why) in at least this many words or non-space characters.
MIN_NOTE_WORDS = 3
MIN_NOTE_CHARS = 10


def note_problem(step: str, note: str) -> str | None:
    """Why ``note`` is not enough to record ``step`` (None: it is), in words a user can act on."""
    words = note.split()
    if len(words) >= MIN_NOTE_WORDS or len("".join(words)) >= MIN_NOTE_CHARS:
        return None
    what = "the reason for the exit" if step == "exit" else "what was done"
    return (f"the note must say {what}, in at least {MIN_NOTE_WORDS} words or {MIN_NOTE_CHARS} characters "
            f"(got {note.strip()!r})")


@dataclass(frozen=True)
class Intervention:
    intervention_id: int
    customer_id: str
    step: str
    note: str
    recorded_by: str
    tried_at: datetime
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "intervention_id": self.intervention_id, "customer_id": self.customer_id, "step": self.step,
            "note": self.note, "recorded_by": self.recorded_by, "tried_at": jsonable(self.tried_at),
            "recorded_at": jsonable(self.recorded_at),
        }


def record_intervention(
    settings: Settings, customer_id: str, step: str, note: str, recorded_by: str,
    tried_at: datetime | None = None, reader: sqlfiles.Statements | None = None,
) -> Intervention:
    """Store that ``step`` was tried with ``customer_id`` by ``recorded_by`` (at ``tried_at``, default the
    model's now, UTC: ``clock.model_now``, so that the next step, read at the model's now, sees it).

    Raises UserError for an unknown step or customer, a note too short to say what was done (for an exit:
    why; see ``note_problem``), a ``tried_at`` after the model's now, an empty author, or a database owned by
    a pipeline that does not serve it.

    ``store = "ducklake"``: checked the same way on ``reader`` (a reader's copy of the lake, which holds the
    intervention at once; default: one opened for the moment), recorded in the lake.
    """
    if step not in STEPS:
        raise UserError(f"unknown step {step!r} (one of: {', '.join(STEPS)})")
    if not recorded_by.strip():
        raise UserError("an intervention needs who recorded it (--by)")
    if settings.store == "ducklake":
        return _record_in_lake(settings, reader, customer_id, step, note, recorded_by, tried_at)
    db = open_reader(settings)
    if db.mode == "quack":
        try:
            row = _record(db, customer_id, step, note, recorded_by, tried_at)
        finally:
            db.close()
    else:
        db.close()
        con = open_owner(settings)
        try:
            row = _record(sqlfiles.Statements(con), customer_id, step, note, recorded_by, tried_at)
        finally:
            con.close()
    return Intervention(*row)


def _record(db: sqlfiles.Statements, customer_id: str, step: str, note: str, recorded_by: str,
            tried_at: datetime | None) -> tuple[Any, ...]:
    row = db.one("health/record_intervention", _checked(db, customer_id, step, note, recorded_by, tried_at))
    assert row is not None
    return tuple(row)


def _record_in_lake(settings: Settings, reader: sqlfiles.Statements | None, customer_id: str, step: str, note: str,
                    recorded_by: str, tried_at: datetime | None) -> Intervention:
    db = reader if reader is not None else open_reader(settings)
    try:
        values = _checked(db, customer_id, step, note, recorded_by, tried_at)
        intervention_id = lake.record(settings, values, local=db.con)
    finally:
        if reader is None:
            db.close()
    return Intervention(intervention_id, values["customer_id"], values["step"], values["note"],
                        values["recorded_by"], values["tried_at"], values["recorded_at"])


def _checked(db: sqlfiles.Statements, customer_id: str, step: str, note: str, recorded_by: str,
             tried_at: datetime | None) -> dict[str, Any]:
    """The intervention's values (health/record_intervention's parameters), checked against ``db``."""
    recorded_at = utc_now()  # the wall clock: when it was written down
    now = model_now(db, recorded_at)
    if tried_at is not None and tried_at > now:
        raise UserError(f"--at {tried_at:%Y-%m-%d %H:%M:%S} UTC is in the future (the model's now is "
                        f"{now:%Y-%m-%d %H:%M:%S} UTC): record a step once it was tried")
    _known(db.one("health/customer_profile", {"customer_id": customer_id}), customer_id)
    _enough(step, note)
    return {"customer_id": customer_id, "step": step, "note": note.strip(), "recorded_by": recorded_by.strip(),
            "tried_at": tried_at or now, "recorded_at": recorded_at}


def _known(profile: tuple[Any, ...] | None, customer_id: str) -> None:
    if profile is None:
        raise UserError(f"no customer {customer_id!r}: no profile has landed for this id")


def _enough(step: str, note: str) -> None:
    problem = note_problem(step, note)
    if problem:
        raise UserError(f"--note: {problem}")
