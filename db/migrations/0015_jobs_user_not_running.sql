DROP INDEX "jobs_user_id_idx";--> statement-breakpoint
CREATE INDEX "jobs_user_not_running_idx" ON "jobs" USING btree ("user_id","id") WHERE "jobs"."status" <> 'running';