DROP INDEX "jobs_user_created_idx";--> statement-breakpoint
ALTER TABLE "sync_states" ADD COLUMN "cursor_saved_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "connections_recent_idx" ON "connections" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "jobs_user_id_idx" ON "jobs" USING btree ("user_id","id");--> statement-breakpoint
CREATE INDEX "jobs_unsettled_idx" ON "jobs" USING btree ("status","id") WHERE "jobs"."status" IN ('failed', 'dead', 'cancelled');--> statement-breakpoint
CREATE INDEX "jobs_finished_idx" ON "jobs" USING btree ("finished_at") WHERE "jobs"."finished_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "runs_recent_idx" ON "runs" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "sync_states_failing_idx" ON "sync_states" USING btree ("last_error_at") WHERE "sync_states"."last_error" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "units_recent_idx" ON "units" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);