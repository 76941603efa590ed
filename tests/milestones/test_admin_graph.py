"""The template graph in the admin: a server-drawn picture with hard and soft prerequisites, and the
same graph as a nested list."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from milestones.graph import BOX_WIDTH, layered_layout
from milestones.models import MilestoneTemplate, TemplatePrerequisite


def test_the_layout_puts_each_milestone_right_of_its_prerequisites():
    picture = layered_layout(
        [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")],
        [("b", "a", "hard"), ("c", "b", "soft"), ("c", "a", "hard")],
    )
    x = {box.key: box.x for box in picture.boxes}
    assert x["a"] == x["d"] < x["b"] < x["c"]
    assert [(a.requires, a.template, a.kind) for a in picture.arrows] == [
        ("a", "b", "hard"),
        ("b", "c", "soft"),
        ("a", "c", "hard"),
    ]
    assert picture.width >= x["c"] + BOX_WIDTH
    # Every arrow starts at the right edge of the prerequisite and ends left of the milestone.
    for arrow in picture.arrows:
        start_x, end_x = (float(n) for n in re.findall(r"M([\d.]+),.* ([\d.]+),[\d.]+$", arrow.path)[0])
        assert start_x == x[arrow.requires] + BOX_WIDTH and end_x < x[arrow.template]


@pytest.mark.django_db
def test_admins_see_the_graph_linked_from_the_template_list(client, root, pathway_data):
    client.force_login(root)
    changelist = client.get(reverse("admin:milestones_milestonetemplate_changelist")).content.decode()
    url = reverse("admin:milestones_milestonetemplate_graph")
    assert f'href="{url}"' in changelist

    response = client.get(url)

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page
    hard = TemplatePrerequisite.objects.filter(kind="hard").count()
    soft = TemplatePrerequisite.objects.filter(kind="soft").count()
    assert soft and hard
    assert page.count('class="edge-hard"') == hard
    assert page.count('class="edge-soft"') == soft
    assert page.count("<rect ") == MilestoneTemplate.objects.count()
    link = TemplatePrerequisite.objects.filter(kind="soft").select_related("template", "requires").first()
    in_words = page.split("The graph in words", 1)[1]
    item = in_words.split(f"<code>{link.template.key}</code>", 1)[1].split("</ul>", 1)[0]
    assert f"requires {link.requires.title} <code>{link.requires.key}</code> — soft" in item


@pytest.mark.django_db
def test_the_graph_is_for_admins_only(client, pathway_data):
    from ..factories import UserFactory

    url = reverse("admin:milestones_milestonetemplate_graph")
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code in (302, 404)
