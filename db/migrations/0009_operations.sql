CREATE TABLE "alert_incidents" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alert_incidents_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"alert" text NOT NULL,
	"summary" text NOT NULL,
	"value" double precision,
	"threshold" double precision,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"open_notified_at" timestamp with time zone,
	"resolve_notified_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"user_id" text,
	"actor_type" text NOT NULL,
	"actor_id" text,
	"action" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"request_id" text,
	"ip" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "audit_log_actor_type_check" CHECK ("audit_log"."actor_type" IN ('user', 'api_key', 'admin', 'system'))
);
--> statement-breakpoint
CREATE TABLE "ops_metric_windows" (
	"metric" text NOT NULL,
	"label" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	"max" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "ops_metric_windows_metric_label_window_start_pk" PRIMARY KEY("metric","label","window_start")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alert_incidents_open_key_idx" ON "alert_incidents" USING btree ("key") WHERE "alert_incidents"."resolved_at" IS NULL;--> statement-breakpoint
CREATE INDEX "alert_incidents_resolved_idx" ON "alert_incidents" USING btree ("resolved_at");--> statement-breakpoint
CREATE INDEX "audit_log_user_idx" ON "audit_log" USING btree ("user_id","occurred_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_recent_idx" ON "audit_log" USING btree ("occurred_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "ops_metric_windows_start_idx" ON "ops_metric_windows" USING btree ("window_start");--> statement-breakpoint
CREATE INDEX "events_created_idx" ON "events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "runs_finished_idx" ON "runs" USING btree ("finished_at") WHERE "runs"."status" IN ('completed', 'failed', 'skipped');