-- Whether the stored history waits for a rebuild (a late event marked a day dirty).
select exists (from health_history_dirty);
