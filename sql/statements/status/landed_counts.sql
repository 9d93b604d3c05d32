select
    (select count(*) from tickets) as tickets,
    (select count(*) from payments) as payments,
    (select count(*) from visits) as visits,
    (select count(*) from customer_events) as customers;
