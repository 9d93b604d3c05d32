-- The plans of the known customers (a --plan filter must name one).
select distinct plan from customers order by plan;
