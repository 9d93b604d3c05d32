select reason_code, count(*) as n from dead_letter group by reason_code order by n desc, reason_code;
