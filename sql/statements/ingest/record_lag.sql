insert or replace into consumer_lag values ($topic, $partition, $end_offset, $next_offset, $lag, $now);
