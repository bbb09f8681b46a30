DROP INDEX "email_threads_senders_idx";--> statement-breakpoint
CREATE INDEX "email_threads_user_senders_idx" ON "email_threads" USING gin ("user_id","senders");