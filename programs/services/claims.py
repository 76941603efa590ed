"""Recording and verifying requirement claims. A change is saved (and so kept in the claim's history) only
when it changes something: recording what is already recorded is a no-op, which keeps imports idempotent."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Program, RequirementClaim
from ..requirements import ClaimState, Requirement, SourceKind
from ..values import ClaimValue, claim_value, parse_value

PROVENANCE_FIELDS = ("source_url", "source_kind", "observed_on")
_FETCH = object()  # record_claim reads the current claim itself


def _can_verify(user) -> bool:
    return user is not None and (getattr(user, "role", None) in ("advisor", "admin") or user.is_superuser)


@transaction.atomic
def record_claim(
    *,
    program: Program,
    requirement: str,
    value: ClaimValue | str | None,
    source_url: str = "",
    source_kind: str,
    observed_on: date,
    by=None,
    verified: bool = False,
    note: str = "",
    current=_FETCH,
) -> tuple[RequirementClaim, bool]:
    """Set the claim about `requirement` of `program`. `value` is a ClaimValue or a cell ("yes", "240",
    "none", "" for unknown). Returns (claim, changed). `verified` marks it checked by `by` (an advisor or
    admin only). A value already recorded with the same provenance changes nothing; a value recorded from
    an older observation than the claim's is refused, so an old list never overwrites a newer reading.
    `current`: the claim (or None) when the caller has already read it under a row lock (the importer)."""
    return write_claim(
        program=program, requirement=requirement, value=value, source_url=source_url, source_kind=source_kind,
        observed_on=observed_on, by=by, verified=verified, note=note, current=current,
    )


def write_claim(
    *, program, requirement, value, source_url, source_kind, observed_on, by, verified, note, current
) -> tuple[RequirementClaim, bool]:
    """record_claim's work, for a caller already inside its own transaction (the importer, hundreds of
    times per file: no savepoint each time)."""
    if requirement not in Requirement.values:
        raise ValidationError({"requirement": f"{requirement!r} is not a requirement."})
    if source_kind not in SourceKind.values:
        raise ValidationError({"source_kind": f"{source_kind!r} is not a kind of source."})
    if isinstance(value, str) or value is None:
        value = parse_value(requirement, value)
    if verified and not _can_verify(by):
        raise ValidationError("Only an advisor or an admin can verify a claim.")
    if current is _FETCH:
        current = RequirementClaim.objects.select_for_update().filter(program=program, requirement=requirement).first()
    claim = current
    new = {**value.as_fields(), "source_url": source_url, "source_kind": source_kind, "observed_on": observed_on}
    if claim is not None and _same(claim, value, new) and (not verified or claim.verified_by_id == by.pk):
        return claim, False
    if claim is not None and observed_on < claim.observed_on:
        raise ValidationError(
            {"observed_on": f"The claim was observed on {claim.observed_on}; a reading from {observed_on} is older."}
        )
    claim = claim or RequirementClaim(program=program, requirement=requirement)
    for name, field_value in new.items():
        setattr(claim, name, field_value)
    claim.entered_by = by
    claim.verified_by, claim.verified_at = (by, timezone.now()) if verified else (None, None)
    claim.note = note
    claim.updated_at = timezone.now()
    if by is not None:
        claim._history_user = by
    claim.full_clean(exclude=["program", "entered_by", "verified_by"])
    claim.save()
    return claim, True


def _same(claim: RequirementClaim, value: ClaimValue, new: dict) -> bool:
    return claim_value(claim) == value and all(getattr(claim, f) == new[f] for f in PROVENANCE_FIELDS)


@transaction.atomic
def verify_claim(*, claim: RequirementClaim, by) -> RequirementClaim:
    """An advisor or admin confirms the claim against its source (recorded in the claim's history)."""
    if not _can_verify(by):
        raise ValidationError("Only an advisor or an admin can verify a claim.")
    claim = RequirementClaim.objects.select_for_update().get(pk=claim.pk)
    claim.verified_by, claim.verified_at = by, timezone.now()
    claim._history_user = by
    claim.save(update_fields=["verified_by", "verified_at"])
    return claim


def is_unknown(claim: RequirementClaim | None) -> bool:
    return claim is None or claim.state == ClaimState.UNKNOWN
