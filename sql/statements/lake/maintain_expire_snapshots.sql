-- Snapshots older than $older_than (UTC) are forgotten: the offset tables' superseded rows and merged
-- files are no longer reachable by time travel.
select count(*) as affected from ducklake_expire_snapshots('lake', older_than => $older_than::TIMESTAMP);
