/**
 * Actions: what switchyard does on a user's behalf (send an email, create, update or cancel an event,
 * create or update CRM records), each a tool of its provider's declaration, run as a job, exactly once.
 * The API and automations submit them (submitAction); the `action` job runs them (actionHandler).
 */
export { actionHandler, type ActionPayload } from './handler';
export { actionBody, actionResponse, performAction, type Perform } from './http';
export { IDEMPOTENCY_HEADER, idempotencyKeyOf } from './idempotency';
export { SendRateExceededError } from './limits';
export { ACTION_JOB_KIND, findAction, pruneActions, settleAbandoned } from './store';
export { actingConnection, submitAction, type ActionRequest, type Submitted } from './submit';
export { calendarEventTarget, calendarWriteQuery, crmRecordTarget, type Target } from './targets';
export { findTool, toolNamed, toolNames } from './tools';
export { ActionFailure, defineTool, type ActionContext, type ActionError, type ActionOutcome, type ActionTool } from './types';
export { actionListQuery, actionView, listActions, type ActionView } from './view';
export { waitForAction } from './wait';
export { emailSend, gmailActions, EMAIL_BODY_LIMIT_BYTES } from './gmail/send';
export { calendarActions, cancelEvent, createEvent, updateEvent } from './calendar/events';
export { crmBatchCreate, crmCreate, crmUpdate, salesforceActions } from './salesforce/records';
