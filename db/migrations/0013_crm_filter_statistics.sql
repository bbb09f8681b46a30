-- Each of status, industry and stage_name belongs to one object (Lead, Account, Opportunity): without
-- statistics on the combination the planner takes `object = 'Account' AND lower(industry) = 'technology'`
-- as two independent filters, expects a common industry to be rare among accounts and reads every one of
-- them from crm_records_search_idx and sorts, instead of walking the modstamp order for a page.
CREATE STATISTICS IF NOT EXISTS crm_records_object_fields_stats (mcv) ON object, lower(status), lower(industry), lower(stage_name) FROM crm_records;
