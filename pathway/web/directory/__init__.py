"""The program directory's face (`directory:`): pages every signed-in role uses (search, program pages,
reports), an applicant's own list, and the review queue of advisors and admins."""
