-- Files no snapshot needs any more, scheduled for deletion before $older_than (UTC), are deleted.
select count(*) as affected from ducklake_cleanup_old_files('lake', older_than => $older_than::TIMESTAMP);
