"""The directory's search page: filters over a GET form that works without JavaScript, the URL keeping
them, the htmx results partial, 25 programs a page, a verdict badge per row at a constant query count, and
"only programs I am eligible for"."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from programs.eligibility import Outcome, check_eligibility
from programs.models import Program

from .directory_helpers import FRIENDLY_CODE, FRIENDLY_ERAS, H1B_STEP3_CODE, demo_programs, program, season  # noqa: F401 (fixtures)

# Every test here reads the fictional demo programs, on a day in the 2027 season.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("season", "demo_programs")]
URL = "/programs/"
ROW = re.compile(r'<li class="program-row">')


def rows(response) -> int:
    return len(ROW.findall(response.content.decode()))


@pytest.fixture
def amira_in(client, amira_profile):
    client.force_login(amira_profile.user)
    return amira_profile


def test_the_page_is_a_get_form_that_works_without_javascript(client, amira_in):
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="get" action="/programs/"' in html and '<button type="submit">Search</button>' in html
    assert "<html" in html and rows(response) == 25
    # Sent as a browser without JavaScript sends it: the results come in the whole page.
    response = client.get(URL, {"q": FRIENDLY_ERAS, "state": "NY", "visa": "J1"})
    expected = Program.objects.search(FRIENDLY_ERAS).in_states("NY").sponsoring("J1")
    assert "<html" in response.content.decode() and rows(response) == expected.count() >= 1
    assert program(FRIENDLY_CODE).name in response.content.decode()


def test_search_by_eras_name_state_and_visa_and_the_url_keeps_them(client, amira_in):
    response = client.get(URL, {"q": "Marigold Internal", "state": ["NY", "TX"], "visa": "J1"})
    html = response.content.decode()
    expected = Program.objects.search("Marigold Internal").in_states("NY", "TX").sponsoring("J1")
    assert rows(response) == expected.count() and program(FRIENDLY_CODE).name in html
    assert "Quillfeather" not in html  # the TX institution: no program of it is called Marigold
    # The form shows the filters it was given, so the URL is the whole search (bookmark it, share it).
    assert 'value="Marigold Internal"' in html
    assert re.search(r'<option value="NY" selected>', html) and re.search(r'<option value="TX" selected>', html)
    assert re.search(r'<option value="J1" selected>', html)
    # A visa the program does not sponsor excludes it; unknown is not sponsoring either.
    assert program(H1B_STEP3_CODE).name not in client.get(URL, {"visa": "J1", "state": "MI"}).content.decode()
    h1b = client.get(URL, {"visa": "H1B", "state": "MI"}).content.decode()
    assert program(H1B_STEP3_CODE).name in h1b
    expected = Program.objects.sponsoring("H1B").in_states("MI").count()
    assert f"{expected} program" in h1b


def test_htmx_gets_only_the_results_partial(client, amira_in):
    response = client.get(URL, {"state": "NY"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<section id="results"') and "<html" not in html and "<form" not in html
    assert rows(response) == Program.objects.filter(state="NY").count()
    # The form asks htmx to swap that partial and push the URL, so the filters stay in the address bar.
    page = client.get(URL).content.decode()
    assert 'hx-get="/programs/"' in page and 'hx-target="#results"' in page and 'hx-push-url="true"' in page


def test_25_a_page_and_the_page_links_keep_the_filters(client, amira_in):
    total = Program.objects.count()
    assert total > 50
    first = client.get(URL, {"specialty": ""})
    assert rows(first) == 25
    last_page = (total + 24) // 25
    last = client.get(URL, {"page": last_page})
    assert rows(last) == total - 25 * (last_page - 1)
    assert f"page {last_page} of {last_page}" in last.content.decode()
    # Filters ride along on every page link.
    ny_or_tx = client.get(URL, {"state": ["NY", "TX", "CA", "OH", "FL"]}).content.decode()  # 30 programs
    assert 'href="?state=NY&amp;state=TX&amp;state=CA&amp;state=OH&amp;state=FL&amp;page=2"' in ny_or_tx
    # A page that is not a page shows the last one, never an error.
    assert client.get(URL, {"page": "999"}).status_code == 200
    assert client.get(URL, {"page": "abc"}).status_code == 200


def test_a_verdict_badge_per_row_at_the_same_query_count_for_25_rows_as_for_5(client, amira_in):
    def page(data):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, data)
        assert response.status_code == 200
        return rows(response), len(queries), response.content.decode()

    page({})  # once, for what only the first request does (the directory's settings row is created)
    many, queries_many, html = page({"q": "Residency", "state": ["NY", "TX", "CA", "OH", "FL"]})
    few, queries_few, _ = page({"q": "Marigold Internal", "state": ["NY", "TX", "CA", "OH", "FL"]})
    assert many == 25 and 1 <= few <= 5
    assert queries_many == queries_few, (queries_many, queries_few)
    assert html.count("Your eligibility: </span>") == 25
    # The badge says what check_eligibility says.
    friendly = Program.objects.with_claims().get(nrmp_code=FRIENDLY_CODE)
    assert check_eligibility(profile=amira_in, program=friendly).outcome == Outcome.PASS
    assert re.search(r"Your eligibility: </span>Eligible", html)


def test_only_programs_i_am_eligible_for(client, amira_in):
    response = client.get(URL, {"eligible": "true"})
    html = response.content.decode()
    eligible = Program.objects.eligible_for(amira_in)
    assert eligible.exists() and rows(response) == min(25, eligible.count())
    assert 'name="eligible" value="true" id="id_eligible" checked' in html
    assert "Not eligible" not in html and "Unknown</span>" not in html
    for program_ in eligible:
        assert check_eligibility(profile=amira_in, program=program_).outcome == Outcome.PASS
    # The same page costs the same queries whatever it finds (the first request above made the settings).
    with CaptureQueriesContext(connection) as eligible_queries:
        client.get(URL, {"eligible": "true"})
    with CaptureQueriesContext(connection) as few_queries:
        client.get(URL, {"eligible": "true", "state": "NY"})
    assert len(eligible_queries) == len(few_queries)


def test_a_filter_it_cannot_read_is_a_422_with_the_reason(client, amira_in):
    response = client.get(URL, {"step2ck": "abc", "state": "ZZ"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "Enter a number." in html and "ZZ is not one of the available choices" in html
    assert "Some filters were not understood" in html


def test_advisors_and_admins_read_the_directory_without_badges(client, ben, root):
    for user in (ben, root):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 200 and rows(response) == 25
        assert "Your eligibility" not in response.content.decode()
        assert 'name="eligible"' not in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_navigation_and_the_dashboard_link_to_the_directory(client, amira_in):
    html = client.get("/dashboard/").content.decode()
    assert html.count('href="/programs/"') >= 2 and 'href="/programs/mine/"' in html
    page = client.get(URL).content.decode()
    assert '<a href="/programs/" aria-current="page">Programs</a>' in page
