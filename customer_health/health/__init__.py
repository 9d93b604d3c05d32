"""The health model: cost to serve, margin, health score, segments, drift and the playbook.

The model lives in SQL (``sql/50_rollups``, ``sql/60_marts/10_customer_health.sql`` and
``sql/statements/health``); this package passes the settings to it (:mod:`.params`), keeps the
``health_state`` table up to date in the pipeline (:mod:`.refresh`), reads it for the command line and the
dashboard (:mod:`.queries`), records interventions (:mod:`.interventions`) and writes the evidence file
(:mod:`.dossier`).
"""
