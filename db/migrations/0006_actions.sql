CREATE TABLE "actions" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "actions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" text NOT NULL,
	"connection_id" bigint NOT NULL,
	"provider" text NOT NULL,
	"tool" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"input" jsonb NOT NULL,
	"result" jsonb,
	"error" jsonb,
	"provider_state" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"job_id" bigint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "actions_status_check" CHECK ("actions"."status" IN ('queued', 'running', 'succeeded', 'failed')),
	CONSTRAINT "actions_provider_check" CHECK ("actions"."provider" IN ('gmail', 'calendar', 'salesforce'))
);
--> statement-breakpoint
ALTER TABLE "actions" ADD CONSTRAINT "actions_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "actions_idempotency_idx" ON "actions" USING btree ("user_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "actions_user_recent_idx" ON "actions" USING btree ("user_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "actions_created_idx" ON "actions" USING btree ("created_at");