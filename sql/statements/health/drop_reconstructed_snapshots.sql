-- Reconstructed snapshots are derived again at each full refresh that reconstructs (history may have
-- landed since): the old ones go first.
delete from health_snapshots where reason = 'reconstructed';
