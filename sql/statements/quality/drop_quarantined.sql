-- Quarantined rows leave the batch: they neither land nor count as dead letters (ordinals are unique
-- across the four checked_* tables of a batch).
delete from checked_tickets where ordinal in (select ordinal from quality_failing_rows);
delete from checked_payments where ordinal in (select ordinal from quality_failing_rows);
delete from checked_visits where ordinal in (select ordinal from quality_failing_rows);
delete from checked_customers where ordinal in (select ordinal from quality_failing_rows);
