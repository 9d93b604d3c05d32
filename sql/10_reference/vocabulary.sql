-- The closed lists the SQL and the Python share (customer_health.vocabulary loads them from this file):
-- segments from best to worst, the playbook's steps in the order they are tried, the event types (topics).
create or replace macro segments() as ['champion', 'healthy', 'at_risk', 'unprofitable', 'terrorist', 'churned'];
create or replace macro playbook_steps() as ['readjust', 'educate', 'renegotiate', 'migrate', 'exit'];
create or replace macro event_types() as ['tickets', 'payments', 'visits', 'customers'];
