-- The newest silently-fading record (rowid: churn_fading is append-only, so rowids grow in commit order).
select coalesce(max(rowid), -1) from churn_fading;
