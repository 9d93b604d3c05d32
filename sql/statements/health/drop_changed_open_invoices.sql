-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The invoices the batch's charges changed (health_changed_invoices) leave open_invoices; then
-- health/apply_changed_invoices puts back those still open.
delete from open_invoices where invoice_id in (select invoice_id from health_changed_invoices);
