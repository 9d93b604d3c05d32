-- Empty churn_days before a rebuild.
delete from churn_days;
