-- Many small per-batch files become fewer, larger ones (what every reader scans).
select count(*) as affected from ducklake_merge_adjacent_files('lake');
