-- The fields of each event type, in the order the check statements read them ('$' first: the root).
create or replace macro contract_paths_tickets() as ['$', '$.event_id', '$.customer_id', '$.occurred_at',
    '$.ticket_id', '$.action', '$.category', '$.channel', '$.handling_minutes', '$.escalated',
    '$.compensation_requested', '$.compensation_granted', '$.sentiment'];
create or replace macro contract_paths_payments() as ['$', '$.event_id', '$.customer_id', '$.occurred_at',
    '$.invoice_id', '$.kind', '$.status', '$.amount', '$.currency', '$.due_at'];
create or replace macro contract_paths_visits() as ['$', '$.event_id', '$.customer_id', '$.occurred_at',
    '$.session_id', '$.channel', '$.duration_seconds', '$.pages'];
create or replace macro contract_paths_customers() as ['$', '$.event_id', '$.customer_id', '$.occurred_at',
    '$.name', '$.kind', '$.plan', '$.household_id', '$.signed_up_at', '$.cancelled_at'];
-- The fields an event of each type must carry (the `true` required flags of statements/ingest/check_<type>;
-- tests/unit/test_contract.py proves they agree). `load` refuses a CSV or Parquet file without a column for one.
create or replace macro contract_required_tickets() as ['event_id', 'customer_id', 'occurred_at', 'ticket_id',
    'action', 'category', 'channel', 'handling_minutes', 'escalated'];
create or replace macro contract_required_payments() as ['event_id', 'customer_id', 'occurred_at', 'invoice_id',
    'kind', 'status', 'amount', 'currency'];
create or replace macro contract_required_visits() as ['event_id', 'customer_id', 'occurred_at', 'session_id',
    'channel', 'duration_seconds'];
create or replace macro contract_required_customers() as ['event_id', 'customer_id', 'occurred_at', 'name', 'kind',
    'plan', 'signed_up_at'];
-- The contract fields that hold a point in time (checked by contract_timestamp or contract_day_or_timestamp in
-- statements/ingest/check_<type>; tests/unit/test_contract.py proves they agree). `load --assume-timezone` reads a
-- CSV or Parquet file's times without an offset in that zone.
create or replace macro contract_timestamp_fields() as ['occurred_at', 'due_at', 'signed_up_at', 'cancelled_at'];
