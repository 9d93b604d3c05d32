-- The contract fields an event of $event_type must carry (contract_required_<type>, sql/30_contract) that a CSV or
-- Parquet file has no column for, $columns being its column names (case as written: JSON field names are
-- case-sensitive), in the contract's order. Every row of such a file would be dead-lettered.
select list_filter(
    case $event_type
        when 'tickets' then contract_required_tickets()
        when 'payments' then contract_required_payments()
        when 'visits' then contract_required_visits()
        when 'customers' then contract_required_customers()
    end,
    f -> not list_contains($columns::varchar[], f));
