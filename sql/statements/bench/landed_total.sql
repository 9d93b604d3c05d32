-- Every message a pipeline has accounted for (bench/lake_scale.py): events landed in the four event tables
-- plus dead letters. Duplicates by event_id land once, so this equals the messages produced once all landed.
select
    (select count(*) from tickets)
    + (select count(*) from payments)
    + (select count(*) from visits)
    + (select count(*) from customer_events)
    + (select count(*) from dead_letter) as accounted;
