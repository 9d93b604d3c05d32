-- Maintenance (customer-health lake-maintain), from one place: small commits the catalog holds inline
-- become Parquet files.
select count(*) as affected from ducklake_flush_inlined_data('lake');
