insert or replace into alert_cursors values ($name, $position, $now);
