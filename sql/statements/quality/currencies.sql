-- Active ISO 4217 codes (sql/10_reference), the value set of the payments suite's currency expectation.
select list(code order by code) from iso4217_currencies;
