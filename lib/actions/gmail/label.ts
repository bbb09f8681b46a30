import { z } from 'zod';
import { gmailApi } from '../../providers/google';
import { ProviderError } from '../../providers/errors';
import { storeThreads } from '../../sync/gmail/store';
import { defineTool, failure, type ActionContext } from '../types';
import { fetchThread, gmailCall, isNotFound } from './send';

/** Gmail's quota cost of each call, in units (developers.google.com/gmail/api/reference/quota). */
const UNITS = { labelsList: 1, labelsCreate: 5, threadsModify: 10 } as const;

export const emailLabelInput = z
  .object({
    threadId: z.string().regex(/^[0-9a-f]{1,32}$/, 'expected a Gmail thread id'),
    /** The label's name, as the user sees it; created when the mailbox has none of that name. */
    label: z.string().trim().min(1).max(225),
  })
  .strict();
export type EmailLabelInput = z.infer<typeof emailLabelInput>;

interface LabelState {
  labelId: string;
}

type LabelContext = ActionContext<EmailLabelInput, LabelState>;

/** The id of the mailbox's label of that name (any case), or null. */
async function findLabel(context: LabelContext, name: string): Promise<string | null> {
  const list = await gmailCall<{ labels?: { id?: string | null; name?: string | null }[] }>(context, UNITS.labelsList, (options) =>
    gmailApi().users.labels.list({ userId: 'me' }, options),
  );
  const wanted = name.toLowerCase();
  return list.labels?.find((label) => label.name?.toLowerCase() === wanted)?.id ?? null;
}

async function labelId(context: LabelContext): Promise<string> {
  if (context.state.labelId) return context.state.labelId;
  let id = await findLabel(context, context.input.label);
  if (!id) {
    try {
      const created = await gmailCall<{ id?: string | null }>(context, UNITS.labelsCreate, (options) =>
        gmailApi().users.labels.create({ userId: 'me', requestBody: { name: context.input.label, labelListVisibility: 'labelShow', messageListVisibility: 'show' } }, options),
      );
      id = created.id ?? null;
    } catch (error) {
      // Made meanwhile (an earlier attempt whose answer was lost, or the user): Gmail says 409; use it.
      if (!(error instanceof ProviderError && error.status === 409)) throw error;
      id = await findLabel(context, context.input.label);
    }
  }
  if (!id) throw failure.unavailable(`Gmail did not return the label ${JSON.stringify(context.input.label)}`);
  await context.record({ labelId: id });
  return id;
}

/**
 * Gmail `email.label`: adds a label (by name, created when missing) to a thread. Exactly once by
 * nature: a label Gmail already has is found, not made again, and adding a label twice changes nothing.
 * The thread is then stored as the sync stores it, so /api/emails shows the label at once.
 */
export const emailLabel = defineTool<EmailLabelInput, LabelState>({
  name: 'email.label',
  provider: 'gmail',
  input: emailLabelInput,
  async run(context) {
    const id = await labelId(context);
    try {
      await gmailCall(context, UNITS.threadsModify, (options) =>
        gmailApi().users.threads.modify({ userId: 'me', id: context.input.threadId, requestBody: { addLabelIds: [id] } }, options),
      );
    } catch (error) {
      if (isNotFound(error)) {
        throw failure.notFound(`no Gmail thread ${context.input.threadId}`, [{ path: 'threadId', message: 'no such thread' }]);
      }
      throw error;
    }
    const thread = await fetchThread(context, context.input.threadId);
    return {
      result: { threadId: context.input.threadId, labelId: id, label: context.input.label },
      store: async (tx) => {
        await storeThreads(tx, context.connection, [thread], { syncedBy: 'history' });
      },
    };
  },
});
