"""Small helpers shared by every layer, the engine included: US Eastern time and "today", absolute URLs,
the email helper. Nothing here imports the engine, the web faces or the wiring.
"""
