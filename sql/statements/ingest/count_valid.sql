-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Valid messages of the batch (landed + duplicates).
select (select count(*) from checked_tickets where len(problems) = 0)
     + (select count(*) from checked_payments where len(problems) = 0)
     + (select count(*) from checked_visits where len(problems) = 0)
     + (select count(*) from checked_customers where len(problems) = 0);
