-- Every column of every customer's current health: the benchmark's baseline ("a plain read").
select * from customer_health;
