-- The five-step playbook. Steps are considered in this order:
--   educate      how-to tickets dominate a heavy support load;
--   migrate      failed payments and overdue invoices dominate the payment attempts (prepaid, self-service);
--   renegotiate  cost to serve above revenue (margin_90d < 0) with ordinary (not terrorist) behaviour;
--   exit         terrorist, but only once educate, migrate and renegotiate have all been tried: until then
--                the first of them never tried is recommended instead;
--   readjust     otherwise, for at_risk and unprofitable customers: diagnose.
-- A fitting step tried within retry_after_days is not recommended again; the next fitting step is.
-- Whether each step fits was fixed with the row (playbook, from health_scored); the words come from the
-- row's figures at read time (health_playbook_text); tried is the list of {step, tried_at} recorded up
-- to as_of (health_interventions_tried).

-- Whether step was tried at or after since.
create or replace macro health_step_tried(tried, step, since) as
    len(list_filter(coalesce(tried, []), t -> t.step = step and t.tried_at >= since)) > 0;

-- The earliest of educate, migrate, renegotiate never tried (null when all were).
create or replace macro health_first_untried(tried) as
    list_filter(['educate', 'migrate', 'renegotiate'], s -> not health_step_tried(tried, s, '-infinity'::timestamp))[1];

-- The stored playbook of a row with the reason of each step in words, from the row's figures.
create or replace macro health_playbook_text(playbook, kind, how_to_share_90d, support_minutes_90d,
        median_support_minutes_90d, failed_payments_90d, overdue_invoices_90d, payment_problem_share_90d,
        cost_to_serve_90d, revenue_90d, margin_90d) as {
    'educate_fits': playbook.educate_fits,
    'educate_reason': format('how-to tickets take {}% of {} support minutes in 90 days (portfolio median {}): '
        || 'educate (guides, onboarding, self-help)', round(100 * how_to_share_90d, 0)::integer,
        round(support_minutes_90d::double, 1), round(median_support_minutes_90d, 1)),
    'migrate_fits': playbook.migrate_fits,
    'migrate_reason': format('{} failed payments and {} overdue invoices in 90 days, {}% of payment attempts: '
        || 'migrate to prepaid or self-service billing', failed_payments_90d, overdue_invoices_90d,
        round(100 * payment_problem_share_90d, 0)::integer),
    'renegotiate_fits': playbook.renegotiate_fits,
    'renegotiate_reason': format('cost to serve {} above revenue {} (margin_90d {}) with ordinary behaviour: '
        || 'renegotiate price or service level', cost_to_serve_90d, revenue_90d, margin_90d),
    'exit_notice': case when kind = 'b2b'
        then format('business account: give notice {} months ahead, in person', playbook.exit_notice_months)
        else 'consumer: tell them in person or by phone' end,
    'retry_after_days': playbook.retry_after_days
};

create or replace macro health_next_step(customer_id, segment, segment_reason, playbook, tried, as_of) as case
    when segment = 'churned' then {'next_step': 'none',
        'next_step_reason': 'cancelled: no step; see the win-back dates', 'exit_notice': null::varchar}
    when segment = 'terrorist' and health_first_untried(tried) is not null then {
        'next_step': health_first_untried(tried),
        'next_step_reason': format('{} was never tried, and the playbook tries it before exit ({}); terrorist: {}',
            health_first_untried(tried),
            case health_first_untried(tried)
                when 'educate' then case when playbook.educate_fits then playbook.educate_reason
                    else 'set expectations: what the service includes and how to get help' end
                when 'migrate' then case when playbook.migrate_fits then playbook.migrate_reason
                    else 'move them to prepaid billing or self-service channels' end
                else 'renegotiate the terms of service'
            end,
            segment_reason),
        'exit_notice': null::varchar}
    when segment = 'terrorist' then {'next_step': 'exit',
        'next_step_reason': format('terrorist after educate, migrate and renegotiate were all tried: exit with '
            || 'the evidence file ready (customer-health dossier {}); {}; notice: {}', customer_id,
            segment_reason, playbook.exit_notice),
        'exit_notice': playbook.exit_notice}
    when playbook.educate_fits
        and not health_step_tried(tried, 'educate', as_of - health_days(playbook.retry_after_days)) then {
        'next_step': 'educate', 'next_step_reason': playbook.educate_reason, 'exit_notice': null::varchar}
    when playbook.migrate_fits
        and not health_step_tried(tried, 'migrate', as_of - health_days(playbook.retry_after_days)) then {
        'next_step': 'migrate', 'next_step_reason': playbook.migrate_reason, 'exit_notice': null::varchar}
    when playbook.renegotiate_fits
        and not health_step_tried(tried, 'renegotiate', as_of - health_days(playbook.retry_after_days)) then {
        'next_step': 'renegotiate', 'next_step_reason': playbook.renegotiate_reason, 'exit_notice': null::varchar}
    when segment in ('at_risk', 'unprofitable') then {'next_step': 'readjust',
        'next_step_reason': format('{}: {}; {}diagnose what changed and readjust', segment, segment_reason,
            case when playbook.educate_fits or playbook.migrate_fits or playbook.renegotiate_fits
                then format('the fitting steps were tried in the last {} days; ', playbook.retry_after_days)
                else '' end),
        'exit_notice': null::varchar}
    else {'next_step': 'none', 'next_step_reason': format('{}: no step needed ({})', segment, segment_reason),
        'exit_notice': null::varchar}
end;
