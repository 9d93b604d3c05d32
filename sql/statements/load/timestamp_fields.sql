-- The contract's time fields (sql/30_contract: contract_timestamp_fields): a CSV or Parquet column of one of them
-- typed as a TIMESTAMP without time zone needs `load --assume-timezone`.
select contract_timestamp_fields();
