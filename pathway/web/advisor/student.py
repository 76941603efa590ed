"""An advisor's review of one student: the student's dashboard, timeline and milestone pages, read-only
and in the third person, showing only what the student shares with this advisor; and comments on a
milestone, which the student sees there and gets one email about.

Every URL here starts with the student's id and fetches the student through pathway.access on every
request: when the student ends the sharing, the next request is a 404.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from milestones import tasks
from milestones.models import Milestone, MilestoneComment
from milestones.reference import reference_data
from milestones.services import CommentRefused
from pathway.access import Shared, get_student_and_state_for, get_student_for, get_student_milestone_for
from pathway.web.applicant.dashboard import (
    advisor_milestone_url,
    dashboard_content,
    dashboard_context,
    milestone_context,
)
from pathway.web.applicant.timeline import build_timeline
from pathway.web.page_cache import cached_content, next_moment

# The engine's risk texts speak to the applicant; the advisor reads them about the student.
_THIRD_PERSON = [
    (re.compile(r"\bYou have\b"), "They have"),
    (re.compile(r"\byou have\b"), "they have"),
    (re.compile(r"\bYou are\b"), "They are"),
    (re.compile(r"\byou are\b"), "they are"),
    (re.compile(r"\bYour\b"), "Their"),
    (re.compile(r"\byour\b"), "their"),
    (re.compile(r"\bYou\b"), "They"),
    (re.compile(r"\byou\b"), "they"),
]


def third_person(text: str) -> str:
    """'Your next attempt is the last one' -> 'Their next attempt is the last one'."""
    for pattern, words in _THIRD_PERSON:
        text = pattern.sub(words, text)
    return text


def speak_of_the_student(milestones) -> None:
    """Step titles speak to the applicant ("Certify your rank order list"); the advisor reads "their".
    Changes the titles of these in-memory templates only, for this response; nothing is saved."""
    for milestone in milestones:
        if milestone is not None:
            milestone.template.title = third_person(milestone.template.title)


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=MilestoneComment.BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Plain text.",
    )


def _hidden_keys(milestones: list[Milestone], shared: Shared) -> set[str]:
    """The steps an advisor does not see: visa steps, unless the student shares visa details."""
    return set() if shared.visa else {m.template.key for m in milestones if m.template.visa_route}


def viewer_variant(advisor, student, shared: Shared) -> str:
    """The cache variant of a student's page as this advisor sees it: keyed by the advisor, by what the
    student shares with them (a changed choice is a new key on the next request) and by the student's
    name the page shows. The applicant's own copy has the empty variant, so the two never meet."""
    name = zlib.crc32(student.display_name.encode())
    return f"advisor:{advisor.pk}:s{int(shared.scores)}v{int(shared.visa)}n{int(shared.notes)}:{name}"


def review_context(*, student, shared: Shared, now=None, reference=None) -> dict:
    """The student's dashboard as their advisor sees it: third person, the unshared parts left out.
    `reference`: the snapshot of the stamp the page read with the student's page state."""
    context = dashboard_context(
        applicant=student, now=now, url=advisor_milestone_url(student), reference=reference
    )
    speak_of_the_student(context["milestones"])
    if context.get("reachability") is not None:
        context["reachability"] = replace(
            context["reachability"], chain=[third_person(title) for title in context["reachability"].chain]
        )
    hidden = _hidden_keys(context["milestones"], shared)

    def keep(milestone) -> bool:
        return milestone.template.key not in hidden

    context["milestones"] = [m for m in context["milestones"] if keep(m)]
    if context.get("profile") is not None:
        for name in ("red_risks", "amber_risks"):
            context[name] = [
                replace(r, message=third_person(r.message), action=third_person(r.action))
                for r in context[name]
                if r.milestone not in hidden and not (r.code.startswith("visa") and not shared.visa)
            ]
        for name in ("overdue", "next_deadlines"):
            context[name] = [d for d in context[name] if keep(d.milestone)]
        groups = [replace(g, deadlines=[d for d in g.deadlines if keep(d.milestone)]) for g in context["overdue_groups"]]
        context["overdue_groups"] = [g for g in groups if g.deadlines]
        context["rows"] = [row for row in context["rows"] if keep(row.milestone)]
        context["contingencies"] = [row for row in context["contingencies"] if keep(row.milestone)]
    if "titles" in context:
        context["titles"] = {m.template.key: m.template.title for m in context["milestones"]}
    context.update(student=student, read_only=True, shared=shared)
    return context


@login_required
@require_GET
def student_detail(request, pk: int):
    """An advisor's read-only view of one student's pathway."""
    student, shared, state = get_student_and_state_for(request.user, pk)
    if student == request.user:
        return redirect("applicant:dashboard")
    context = {"student": student, "read_only": True}
    if state is None:  # "has not set up their pathway yet": nothing to cache
        body = render_to_string("applicant/dashboard.html#body", review_context(student=student, shared=shared))
        context["content"] = mark_safe(body)  # noqa: S308 - rendered by our own template
    else:
        context["content"] = dashboard_content(
            request,
            applicant=student,
            state=state,
            variant=viewer_variant(request.user, student, shared),
            context_of=lambda now: review_context(
                student=student, shared=shared, now=now, reference=reference_data(state.reference_stamp)
            ),
        )
    return render(request, "advisor/student_detail.html", context)


@login_required
@require_GET
def student_timeline(request, pk: int):
    student, shared, state = get_student_and_state_for(request.user, pk)
    if student == request.user:
        return redirect("applicant:timeline")
    if state is None:
        return redirect("advisor:student_detail", pk=student.pk)

    def build(now):
        profile = student.profile
        milestones = list(Milestone.objects.of_applicant(student).order_by("template__order"))
        events = list(reference_data(state.reference_stamp).events_of(profile.target_cycle_id))
        hidden = _hidden_keys(milestones, shared)
        speak_of_the_student(milestones)
        url = advisor_milestone_url(student)
        chart = build_timeline(
            milestones=[m for m in milestones if m.template.key not in hidden],
            events=events,
            tz=profile.tz,
            now=now,
            href=lambda m: url.of(m.template.key),
        )
        context = {"profile": profile, "tz_name": profile.time_zone, "timeline": chart}
        context.update(student=student, read_only=True, shared=shared)
        html = render_to_string("applicant/timeline.html#body", context)
        return html, next_moment(now, [m.due_at for m in milestones] + [e.at for e in events])

    variant = viewer_variant(request.user, student, shared)
    html = cached_content(kind="timeline", applicant_id=student.pk, state=state, build=build, variant=variant)
    context = {"student": student, "read_only": True, "content": mark_safe(html)}  # noqa: S308
    return render(request, "applicant/timeline.html", context)


def _milestone_page(request, student, shared: Shared, milestone: Milestone, *, form=None, status=200):
    context = milestone_context(
        milestone=milestone, read_only=True, shared=shared, url=advisor_milestone_url(student)
    )
    if not shared.visa:  # a visa step is not there for this advisor, not even as a link
        for name in ("requires", "needed_for"):
            context[name] = [link for link in context[name] if not link.milestone.template.visa_route]
    anchor = context.get("anchor")
    speak_of_the_student(
        [milestone, *(link.milestone for link in (*context["requires"], *context["needed_for"]))]
        + ([anchor.milestone] if anchor is not None else [])
    )
    context.update(student=student, comment_form=(form or CommentForm()) if request.user.is_advisor else None)
    return render(request, "applicant/milestone_detail.html", context, status=status)


@login_required
@require_GET
def student_milestone(request, pk: int, key: str):
    """An advisor's read-only copy of one of their student's milestone pages, with the comments."""
    student, shared = get_student_for(request.user, pk)
    if student == request.user:
        return redirect("applicant:milestone_detail", key=key)
    milestone = get_student_milestone_for(request.user, student, shared, key)
    return _milestone_page(request, student, shared, milestone)


@login_required
@require_POST
def student_comment(request, pk: int, key: str):
    """Leave a comment on a student's milestone; the student gets one email about it."""
    student, shared = get_student_for(request.user, pk)
    if not request.user.is_advisor:  # comments come from the student's advisors, not from admins
        raise Http404
    milestone = get_student_milestone_for(request.user, student, shared, key)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = tasks.comment_and_enqueue(milestone=milestone, author=request.user, body=form.cleaned_data["body"])
        except CommentRefused as exc:
            form.add_error("body", str(exc))
        else:
            messages.success(request, f"Comment posted. {student.display_name} gets an email about it.")
            url = reverse("advisor:student_milestone", args=[student.pk, key])
            return redirect(f"{url}#comment-{comment.pk}")
    return _milestone_page(request, student, shared, milestone, form=form, status=422)
