"""The rank order list: add, remove, reorder, supplemental lists, certify. Every change is one transaction
under a row lock on the applicant's list (select_for_update) and carries the version the applicant saw:
a change made from an older version (a second tab, a double submit) is refused with nothing saved, so no
rank is ever lost or duplicated; the (list, rank) and (list, program) unique constraints hold it in the
database as well. A reorder that asks for the order already stored is a no-op, so a double submit of the
same form succeeds once and changes nothing the second time.

The NRMP's limits come from the season's data rows (programs.season.match_rules); certifying completes the
`rank_order_list` milestone through the engine's status service, and any change after certifying opens it
again (the NRMP uses only certified lists: an edit needs certifying again).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from milestones.models import MatchCycle, Milestone
from milestones.services import PrerequisiteMissing, set_status

from ..codes import ProgramType
from .applications import set_status as set_application_status
from .match_models import Rank, RankList, RankOrderList
from .match_rules import RANKING_OPEN, ROL_DEADLINE, cycle_times, et_label, event_at, season_limit
from .models import Application, SeasonLimit
from .models import Status as AppStatus
from .pages import changes_pathway, of_applicant

MilestoneStatus = Milestone.Status
ROL_MILESTONE = "rank_order_list"
# Only PGY-1 positions go on a supplemental list; only advanced (PGY-2) programs link to one.
SUPPLEMENTAL_TYPES = {ProgramType.PRELIMINARY}


class StaleList(ValidationError):
    """The change was made from an older version of the list than the one stored."""


# --- Reading -------------------------------------------------------------------------------------


def rank_order_list_of(applicant, cycle: MatchCycle) -> RankOrderList | None:
    return RankOrderList.objects.filter(applicant=applicant, cycle=cycle).first()


def current_order(rank_list: RankList) -> list[int]:
    return list(rank_list.ranks.order_by("rank").values_list("application_id", flat=True))


# --- Writing -------------------------------------------------------------------------------------


def _locked(applicant, cycle: MatchCycle) -> RankOrderList:
    """The applicant's list for the cycle, created on first use, locked for this transaction."""
    rol, _ = RankOrderList.objects.get_or_create(applicant=applicant, cycle=cycle)
    rol = RankOrderList.objects.select_for_update().select_related("cycle").get(pk=rol.pk)
    RankList.objects.get_or_create(rol=rol, kind=RankList.Kind.PRIMARY)
    return rol


def _check_version(rol: RankOrderList, version: int | None) -> None:
    if version is None or version != rol.version:
        raise StaleList(
            {"version": "Your rank order list changed in another tab or window since this page was loaded. "
             "Nothing was saved: here is the list as it is now; make your change again."},
            code="stale",
        )


def _check_not_past_deadline(rol: RankOrderList, now=None) -> None:
    deadline = event_at(cycle_times(rol.cycle), ROL_DEADLINE, rol.cycle)
    if (now or timezone.now()) > deadline:
        raise ValidationError(
            f"The rank order list deadline ({et_label(deadline)}) has passed: the NRMP accepts no more changes."
        )


def _milestone(rol: RankOrderList) -> Milestone | None:
    """The applicant's rank order list milestone, when this list is for their target Match."""
    return (
        Milestone.objects.of_applicant(rol.applicant_id)
        .filter(template__key=ROL_MILESTONE, applicant__profile__target_cycle=rol.cycle_id)
        .first()
    )


def _changed(rol: RankOrderList, *, by) -> None:
    """A change: next version; a certified list is certified no more, and its milestone opens again."""
    was_certified = rol.certified_at is not None
    rol.version += 1
    rol.updated_at = timezone.now()
    rol.certified_at = rol.certified_version = None
    rol.save(update_fields=["version", "updated_at", "certified_at", "certified_version"])
    milestone = _milestone(rol)
    if milestone is None:
        return
    if was_certified and milestone.status == MilestoneStatus.DONE:
        set_status(milestone=milestone, status=MilestoneStatus.IN_PROGRESS, by=by,
                   reason="Rank order list changed after certifying: certify it again.")
    elif milestone.status == MilestoneStatus.NOT_STARTED:
        set_status(milestone=milestone, status=MilestoneStatus.IN_PROGRESS, by=by)


def _list_of(rol: RankOrderList, list_id: int | None) -> RankList:
    lists = RankList.objects.filter(rol=rol)
    found = lists.filter(pk=list_id).first() if list_id else lists.filter(kind=RankList.Kind.PRIMARY).first()
    if found is None:
        raise ValidationError({"list": "No such list on your rank order list."})
    return found


def _application(applicant, cycle: MatchCycle, application_id) -> Application:
    application = (
        Application.objects.select_related("program")
        .filter(applicant=applicant, cycle=cycle, pk=application_id)
        .first()
    )
    if application is None:
        raise ValidationError({"application": "That program is not on your list of programs for this Match."})
    return application


def _check_fits(rank_list: RankList, application: Application) -> None:
    program = application.program
    if application.status == AppStatus.WITHDRAWN:
        raise ValidationError({"application": f"You withdrew from {program.name}: it cannot be ranked."})
    if not rank_list.is_primary and program.program_type and program.program_type not in SUPPLEMENTAL_TYPES:
        raise ValidationError({"application": (
            f"{program.name} is not a preliminary (PGY-1) program: a supplemental list holds only those."
        )})


def _limit_check(rol: RankOrderList, rank_list: RankList, count: int) -> None:
    limit = season_limit(rol.cycle.year, SeasonLimit.Key.ROL_RANKS)
    if count > limit.value:
        raise ValidationError({"application": (
            f"A rank order list holds at most {limit.value} ranks (NRMP, {rol.cycle}); "
            f"{rank_list} already has {count - 1}."
        )}, code="limit")


@transaction.atomic
@changes_pathway(of_applicant)
def add_rank(*, applicant, cycle: MatchCycle, application_id: int, version: int | None, by,
             list_id: int | None = None) -> Rank:
    """Put one of the applicant's programs at the end of a list (the primary list by default)."""
    rol = _locked(applicant, cycle)
    application = _application(applicant, cycle, application_id)
    rank_list = _list_of(rol, list_id)
    if rank_list.ranks.filter(application=application).exists():
        raise ValidationError({"application": f"{application.program.name} is already on {rank_list}."})
    _check_version(rol, version)
    _check_not_past_deadline(rol)
    _check_fits(rank_list, application)
    count = rank_list.ranks.count() + 1
    _limit_check(rol, rank_list, count)
    last = rank_list.ranks.order_by("-rank").values_list("rank", flat=True).first() or 0
    rank = Rank.objects.create(rank_list=rank_list, rank=last + 1, application=application)
    if application.status != AppStatus.RANKED:  # the tracker follows the list
        set_application_status(application=application, status=AppStatus.RANKED, by=by, note="Added to the rank order list.")
    _changed(rol, by=by)
    return rank


@transaction.atomic
@changes_pathway(of_applicant)
def remove_rank(*, applicant, cycle: MatchCycle, application_id: int, version: int | None, by,
                list_id: int | None = None) -> None:
    """Take a program off a list; the ranks below it move up."""
    rol = _locked(applicant, cycle)
    rank_list = _list_of(rol, list_id)
    order = current_order(rank_list)
    if application_id not in order:
        raise ValidationError({"application": "That program is not on this list."})
    _check_version(rol, version)
    _check_not_past_deadline(rol)
    _write_order(rank_list, [pk for pk in order if pk != application_id])
    if rank_list.is_primary:  # an advanced program off the primary list links no supplemental list
        RankList.advanced.through.objects.filter(ranklist__rol=rol, application_id=application_id).delete()
    if not Rank.objects.filter(rank_list__rol=rol, application_id=application_id).exists():
        application = Application.objects.get(pk=application_id)
        if application.status == AppStatus.RANKED:
            set_application_status(application=application, status=AppStatus.NOT_RANKED, by=by,
                                    note="Taken off the rank order list.")
    _changed(rol, by=by)


@transaction.atomic
@changes_pathway(of_applicant)
def reorder(*, applicant, cycle: MatchCycle, order: list[int], version: int | None, by,
            list_id: int | None = None) -> bool:
    """Store a new order of the programs already on a list (their application ids, first choice first).
    Returns False when the order asked for is the stored one (nothing to do, whatever the version)."""
    rol = _locked(applicant, cycle)
    rank_list = _list_of(rol, list_id)
    stored = current_order(rank_list)
    order = [int(pk) for pk in order]
    if order == stored:
        return False
    if sorted(order) != sorted(stored):
        raise ValidationError({"order": "The new order must hold exactly the programs on the list, each once."})
    _check_version(rol, version)
    _check_not_past_deadline(rol)
    _write_order(rank_list, order)
    _changed(rol, by=by)
    return True


def _write_order(rank_list: RankList, order: list[int]) -> None:
    """Replace the list's ranks in two statements (a constant number of queries however long the list)."""
    rank_list.ranks.all().delete()
    Rank.objects.bulk_create(
        Rank(rank_list=rank_list, rank=position, application_id=pk) for position, pk in enumerate(order, 1)
    )


def order_from_positions(stored: list[int], positions: dict[int, int]) -> list[int]:
    """The order the number inputs ask for: each program at the number typed; a program whose number was
    changed goes before one that kept the same number; the rest keep their relative order."""
    if set(positions) != set(stored):
        raise ValidationError({"order": "Give a rank for every program on the list."})
    if any(position < 1 for position in positions.values()):
        raise ValidationError({"order": "Ranks start at 1."})

    def key(item):
        index, pk = item
        moved = positions[pk] != index + 1
        return (positions[pk], 0 if moved else 1, index)

    return [pk for _index, pk in sorted(enumerate(stored), key=key)]


def order_after_move(stored: list[int], application_id: int, direction: str) -> list[int]:
    """The order after moving one program one place up or down (unchanged at either end)."""
    if application_id not in stored or direction not in ("up", "down"):
        raise ValidationError({"order": "That program is not on this list."})
    order = list(stored)
    index = order.index(application_id)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    return order


# --- Supplemental lists --------------------------------------------------------------------------


@transaction.atomic
@changes_pathway(of_applicant)
def create_supplemental_list(*, applicant, cycle: MatchCycle, name: str, advanced_ids: Iterable[int],
                             version: int | None, by) -> RankList:
    """A supplemental list of PGY-1 programs, linked to advanced programs on the primary list."""
    rol = _locked(applicant, cycle)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the supplemental list (for example: Preliminary medicine, East)."})
    if RankList.objects.filter(rol=rol, name__iexact=name).exists():
        raise ValidationError({"name": f"You already have a list named {name}."})
    _check_version(rol, version)
    _check_not_past_deadline(rol)
    advanced = _advanced_on_primary(rol, advanced_ids)
    rank_list = RankList.objects.create(rol=rol, kind=RankList.Kind.SUPPLEMENTAL, name=name)
    rank_list.advanced.set(advanced)
    _changed(rol, by=by)
    return rank_list


def _advanced_on_primary(rol: RankOrderList, advanced_ids: Iterable[int]) -> list[Application]:
    ids = {int(pk) for pk in advanced_ids}
    if not ids:
        raise ValidationError({"advanced": "Link the list to at least one advanced program on your primary list."})
    primary = RankList.objects.get(rol=rol, kind=RankList.Kind.PRIMARY)
    found = list(
        Application.objects.filter(pk__in=ids, ranks__rank_list=primary, program__program_type=ProgramType.ADVANCED)
    )
    if len(found) != len(ids):
        raise ValidationError({"advanced": "Link only advanced (PGY-2) programs that are on your primary list."})
    return found


@transaction.atomic
@changes_pathway(of_applicant)
def delete_supplemental_list(*, applicant, cycle: MatchCycle, list_id: int, version: int | None, by) -> None:
    rol = _locked(applicant, cycle)
    rank_list = _list_of(rol, list_id)
    if rank_list.is_primary:
        raise ValidationError({"list": "The primary list cannot be deleted; remove its programs instead."})
    _check_version(rol, version)
    _check_not_past_deadline(rol)
    rank_list.delete()
    _changed(rol, by=by)


# --- Certifying ----------------------------------------------------------------------------------


@transaction.atomic
@changes_pathway(of_applicant)
def certify(*, applicant, cycle: MatchCycle, version: int | None, by) -> RankOrderList:
    """Certify the list as it is at `version`: between ranking opening and the deadline, with at least
    one rank, and each supplemental list linked and filled. Completes the rank order list milestone."""
    rol = _locked(applicant, cycle)
    _check_version(rol, version)
    if rol.is_certified:
        return rol  # a double submit: certified already, at this very version
    _check_certifiable(rol)
    milestone = _milestone(rol)
    if milestone is not None and milestone.status != MilestoneStatus.DONE:
        try:
            set_status(milestone=milestone, status=MilestoneStatus.DONE, by=by)
        except PrerequisiteMissing as exc:
            raise ValidationError(
                f"Your list is not certified yet. {exc.messages[0]} "
                "Only applicants registered with the NRMP can certify a list."
            ) from None
    rol.certified_at = timezone.now()
    rol.certified_version = rol.version
    rol.save(update_fields=["certified_at", "certified_version"])
    return rol


def _check_certifiable(rol: RankOrderList) -> None:
    times = cycle_times(rol.cycle)
    now = timezone.now()
    opens = event_at(times, RANKING_OPEN, rol.cycle)
    if now < opens:
        raise ValidationError(f"The NRMP opens ranking on {et_label(opens)}; certify your list from then.")
    _check_not_past_deadline(rol, now)
    lists = list(RankList.objects.filter(rol=rol).prefetch_related("advanced"))
    counts = {row.pk: row.ranks.count() for row in lists}
    for rank_list in lists:
        if rank_list.is_primary and not counts[rank_list.pk]:
            raise ValidationError("Rank at least one program before certifying.")
        if not rank_list.is_primary and (not counts[rank_list.pk] or not rank_list.advanced.all()):
            raise ValidationError(
                f"The supplemental list {rank_list} needs at least one program and one linked advanced "
                "program; fill it or delete it."
            )
