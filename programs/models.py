"""Residency programs an applicant tracks (ERAS applications, signals, interviews, ranks).

No models yet: program tracking is a later issue. The app exists so its URLs and
migrations have a home from the first release.
"""
