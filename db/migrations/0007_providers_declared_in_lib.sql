ALTER TABLE "actions" DROP CONSTRAINT "actions_provider_check";--> statement-breakpoint
ALTER TABLE "connections" DROP CONSTRAINT "connections_provider_check";