-- The norms of the history points from $since on go, with the marks of dirty days.
delete from health_history_dirty;
delete from health_history_norms where as_of >= $since::TIMESTAMP;
