"""Writes to the directory: small transactional services with keyword-only arguments. Views, the API, the
admin, the importer and the demo loader all go through them."""
