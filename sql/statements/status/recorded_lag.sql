select topic, "partition", end_offset, next_offset, lag, observed_at from consumer_lag order by all;
