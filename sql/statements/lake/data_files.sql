-- The lake's live data files and snapshots (what maintenance reduces).
select
    (select count(*) from __ducklake_metadata_lake.ducklake_data_file where end_snapshot is null) as data_files,
    (select count(*) from __ducklake_metadata_lake.ducklake_snapshot) as snapshots;
