-- Trusted extensions (any owner of the database may create them), shipped with Postgres and the
-- embedded-postgres build: pg_trgm for ILIKE '%..%', btree_gin and btree_gist for user_id next to them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
CREATE INDEX "calendar_events_user_span_idx" ON "calendar_events" USING gist ("user_id",tstzrange("start_at", greatest("start_at", "end_at")));--> statement-breakpoint
CREATE INDEX "calendar_events_text_idx" ON "calendar_events" USING gin ("user_id","summary" gin_trgm_ops,"description" gin_trgm_ops,"location" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "crm_records_search_idx" ON "crm_records" USING gin ("user_id","name" gin_trgm_ops,"company" gin_trgm_ops,lower("email"),lower("status"),"account_provider_id",lower("industry"),lower("stage_name"));--> statement-breakpoint
CREATE INDEX "email_threads_subject_idx" ON "email_threads" USING gin ("user_id","subject" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "interactions_user_source_idx" ON "interactions" USING btree ("user_id","source","occurred_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "runs_user_status_idx" ON "runs" USING btree ("user_id","status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);