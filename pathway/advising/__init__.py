"""The advisor's workspace (issue 14): the cohort's stored risk flags, the cohort table and its picture,
interview targets, and the weekly digest. Reads are QuerySet-shaped and run a fixed number of queries
whatever the size of the cohort; writes are small transactional services."""
