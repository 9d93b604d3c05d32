-- After scoring everyone: remove customers without a transaction as of the scoring (table churn_scores).
delete from customer_churn
where customer_id not in (select customer_id from churn_scores);
