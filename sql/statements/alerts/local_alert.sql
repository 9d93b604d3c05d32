-- One alert's delivery status as recorded here (what a lake pipeline copies to the lake with each outcome).
select delivery_status, attempts, delivered_at, last_error from alerts where alert_id = $alert_id;
