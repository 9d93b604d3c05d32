-- The grid's intermediate rows go (health/history_grid_rows).
drop table if exists health_grid_rows;
