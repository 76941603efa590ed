"""The applicant's calendar feed (.ics): their deadlines and their Match cycle's events.

Calendar apps subscribe to /calendar/<token>.ics without logging in, so the secret token in the URL is the
only credential. Regenerating it (settings page) makes the old URL answer 404.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from icalendar import Alarm, Calendar, Event

from milestones import services
from milestones.models import ApplicantProfile, CycleEvent, Milestone
from milestones.reference import ReferenceData, reference_data
from milestones.versions import page_state
from pathway.access import applicant_only, profile_for_calendar_token, profile_of
from pathway.lib.times import ET
from pathway.lib.urls import absolute_url
from pathway.web.applicant.dashboard import applicant_milestone_url
from pathway.web.page_cache import cached_content
from programs.season.models import Interview
from programs.season.models import Status as ApplicationStatus

PRODID = "-//Residency Pathway Planner//Calendar feed//EN"
UID_DOMAIN = "pathway-planner"
# Statuses that still have a meaningful date in a calendar; waived milestones are left out.
FEED_STATUSES = (Milestone.Status.NOT_STARTED, Milestone.Status.IN_PROGRESS, Milestone.Status.DONE)


def feed_milestones(applicant_id: int):
    """The applicant's dated deadlines, open or done (one query)."""
    return (
        Milestone.objects.of_applicant(applicant_id)
        .filter(status__in=FEED_STATUSES, due_at__isnull=False)
        .order_by("due_at", "template__order")
    )


def milestone_url(milestone: Milestone) -> str:
    return absolute_url("applicant:milestone_detail", milestone.template.key)


def milestone_event(milestone: Milestone, *, tz: zoneinfo.ZoneInfo, stamp: datetime, url: str = "") -> Event:
    """One deadline; pass its `url` when the caller builds the links of many (one reverse for them all)."""
    url = url or milestone_url(milestone)
    lines = [f"Status: {milestone.get_status_display()}"]
    if milestone.due_projected:
        lines.append(
            "Projected date: it rests on a date estimated from past years; check the official source."
        )
    lines.append(f"Details: {url}")
    return Event.new(
        uid=f"milestone-{milestone.pk}@{UID_DOMAIN}",
        stamp=stamp,
        start=milestone.due_at.astimezone(tz),
        summary=milestone.template.title,
        description="\n".join(lines),
        url=url,
        last_modified=milestone.updated_at,
        # A projected date may still move; TENTATIVE lets calendar apps show that.
        status="TENTATIVE" if milestone.due_projected else "CONFIRMED",
        categories=["Deadline"],
        transparency="TRANSPARENT",
    )


def cycle_event_event(event: CycleEvent, *, tz: zoneinfo.ZoneInfo, stamp: datetime) -> Event:
    summary = f"{event.title} (projected)" if event.projected else event.title
    lines = [event.note] if event.note else []
    lines.append(f"Status: {event.get_status_display()}")
    lines.append(f"Source: {event.source_url}")
    return Event.new(
        uid=f"cycle-event-{event.pk}@{UID_DOMAIN}",
        stamp=stamp,
        start=event.at.astimezone(tz),
        summary=summary,
        description="\n".join(lines),
        url=event.source_url,
        status="TENTATIVE" if event.projected else "CONFIRMED",
        categories=["Match cycle"],
        transparency="TRANSPARENT",
    )


def feed_interviews(applicant_id: int, cycle_id: int):
    """The applicant's scheduled interviews of the cycle, withdrawn programs left out (one query)."""
    return (
        Interview.objects.filter(application__applicant_id=applicant_id, application__cycle_id=cycle_id,
                                 starts_at__isnull=False)
        .exclude(application__status=ApplicationStatus.WITHDRAWN)
        .select_related("application__program").order_by("starts_at")
    )


def interview_event(interview: Interview, *, stamp: datetime) -> Event:
    """An interview at its own time in its own zone, with alarms the day before and an hour before (the
    calendar app reminds as the planner reminds of deadlines)."""
    program = interview.application.program
    url = absolute_url("applicant:season_application", interview.application_id)
    start = interview.starts_at.astimezone(zoneinfo.ZoneInfo(interview.time_zone))
    event = Event.new(
        uid=f"interview-{interview.pk}@{UID_DOMAIN}",
        stamp=stamp,
        start=start,
        end=start + timedelta(minutes=interview.duration_minutes),
        summary=f"Interview: {program.name} ({interview.get_mode_display().lower()})",
        description=f"Interview time zone: {interview.time_zone}\nDetails: {url}",
        url=url,
        last_modified=interview.updated_at,
        status="CONFIRMED",
        categories=["Interview"],
    )
    for before in (timedelta(days=1), timedelta(hours=1)):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Interview: {program.name}")
        alarm.add("trigger", -before)
        event.add_component(alarm)
    return event


def build_feed(
    profile: ApplicantProfile, *, now: datetime | None = None, reference: ReferenceData | None = None
) -> Calendar:
    """The whole feed for one applicant: two queries (profile is passed in with its cycle; the cycle's
    events come from the reference snapshot)."""
    stamp = now or timezone.now()
    tz = ET
    cal = Calendar.new(
        prodid=PRODID,
        name=f"Pathway Planner: {profile.target_cycle.name}",
        description="Your residency pathway deadlines and Match cycle dates (times in US Eastern).",
        calscale="GREGORIAN",
        method="PUBLISH",
        uid=f"calendar-{profile.pk}@{UID_DOMAIN}",
    )
    link = applicant_milestone_url()
    for milestone in feed_milestones(profile.user_id):
        url = settings.SITE_URL + link.of(milestone.template.key)
        cal.add_component(milestone_event(milestone, tz=tz, stamp=stamp, url=url))
    for event in (reference or reference_data()).events_of(profile.target_cycle_id):
        cal.add_component(cycle_event_event(event, tz=tz, stamp=stamp))
    for interview in feed_interviews(profile.user_id, profile.target_cycle_id):
        cal.add_component(interview_event(interview, stamp=stamp))
    # VTIMEZONE rules only for the years the feed spans (the default, 1970-2038, is ~5 kB of RDATEs).
    starts = [component.start.date() for component in cal.events] or [stamp.date()]
    cal.add_missing_timezones(
        first_date=min(starts).replace(month=1, day=1), last_date=max(starts).replace(month=12, day=31)
    )
    return cal


# --- Views -------------------------------------------------------------------------------------


# Personal data behind a URL that is the credential: no proxy or disk cache may keep a copy. Calendar
# apps poll on their own schedule and the feed has no validators to revalidate against, so no-store
# costs nothing over the former max-age=0.
@cache_control(private=True, no_store=True)
@require_GET
def calendar_feed(request, token: str):
    """The .ics feed; the token in the URL is the credential, so unknown tokens are simply 404."""
    profile = profile_for_calendar_token(token)
    state = page_state(profile.user_id)

    def build(now):
        # Read again after the versions: the profile found by its token may be older than they are.
        fresh = ApplicantProfile.objects.select_related("target_cycle").get(pk=profile.pk)
        return build_feed(fresh, now=now, reference=reference_data(state.reference_stamp)).to_ical(), None

    content = cached_content(kind="calendar", applicant_id=profile.user_id, state=state, build=build)
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="pathway.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


@applicant_only
@require_POST
def calendar_regenerate(request):
    profile = profile_of(request.user)
    if profile is None:
        raise Http404
    services.regenerate_calendar_token(profile=profile)
    messages.success(
        request, "New calendar link created. The old link no longer works: update your calendar app."
    )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("applicant:settings"))
    return redirect("applicant:settings")
