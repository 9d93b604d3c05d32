"""One alerting path for everything that needs a human.

Sources (``sources.py``) read the database the pipeline writes: segment changes and drift (the health
model), silently fading customers (the churn model, ``fading.py``), critical expectation failures (quality),
consumer lag and staleness, dead-letter spikes. The
engine (``engine.py``) deduplicates per (source, subject), applies cooldowns and a per-source circuit
breaker that turns a flood into one summary, stores every alert (table ``alerts``), logs it and hands it
to the webhook sink (``webhook.py``: a background thread with a bounded queue, retries with backoff).
``pipeline.py`` is the pipeline plug-in: the scheduled table suites and the alert evaluation.
"""
