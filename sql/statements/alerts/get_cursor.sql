-- Where an incremental alert source stopped reading (null: never read).
select position from alert_cursors where name = $name;
