-- The temporary table the catalog probe (sqlfiles.Statements) reads, so that this connection's temporary
-- objects created or dropped plan it again too. Created once per connection; never holds a row.
create temp table if not exists catalog_probe (never integer);
