-- The stored history points from $since on go (health/history_point_* derive them again).
delete from health_snapshots where snapshot_at >= $since::TIMESTAMP;
