-- Known customers (one profile each): the expected row count of customer_health.
select count(*) from customers;
