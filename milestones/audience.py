"""Guidance worded for the applicant reading it: a template's guidance may hold passages for international
graduates only ({img}...{/img}) or for US graduates only ({us}...{/us}); the other audience's passages are
left out, so a US graduate's Step 2 CK page does not talk to them "as an IMG".
"""

from __future__ import annotations

import re

PASSAGE = re.compile(r"\{(img|us)\}(.*?)\{/\1\}", re.DOTALL)


def for_audience(text: str, *, is_img: bool) -> str:
    """`text` with the passages for `is_img`'s audience kept (markers removed) and the others dropped."""
    keep = "img" if is_img else "us"

    def replace(match: re.Match) -> str:
        return match.group(2) if match.group(1) == keep else ""

    return re.sub(r"  +", " ", PASSAGE.sub(replace, text)).strip()
