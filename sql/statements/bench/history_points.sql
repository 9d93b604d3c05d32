-- The history points the pipeline has stored (bench/freshness.py waits for them: the steady phase is measured
-- with the history a running deployment has, not while it is first derived).
select count(distinct as_of) from health_history_norms;
