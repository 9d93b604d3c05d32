-- What the group's quality runs in the lake are now, to tell whether a reader's copy holds them already: how
-- many, and the latest recorded (the tables are only appended to, and pruned by lake-maintain).
select count(*), max(recorded_at) from lake.quality_run_log where group_id = $group_id;
