-- Remove the stored scores of the customers about to be rescored (table churn_scores); insert_scores
-- stores the new ones (delete and insert: far cheaper than an upsert of every column).
delete from customer_churn where customer_id in (select customer_id from churn_scores);
