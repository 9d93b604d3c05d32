-- Empty churn_transactions before a rebuild.
delete from churn_transactions;
