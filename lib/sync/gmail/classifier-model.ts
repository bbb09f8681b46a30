/**
 * A small trained model the rules fall back on when none of them matched (rule 9): multinomial logistic
 * regression over hashed features of the message (subject and body words, signature words, the sender's
 * local part, domain and display name, header and label flags; which optional features a model uses is
 * stored with its weights). The weights are shipped as JSON (`classifier-weights.json`) and made by
 * `npx tsx dev/train-classifier.ts` from the tuned labelled set (tests/fixtures/gmail-labelled.ts), held-out
 * batches 1-10 (tests/fixtures/gmail-heldout.ts, whose misses were read and fixed in the rules, so they are no
 * longer blind) and the training corpus (tests/fixtures/gmail-training.ts, written for the model only); batch
 * 11 and later batches are never trained on.
 *
 * Pure and deterministic: the same message and weights give the same probabilities, and the words that
 * pushed the decision are returned so that a person can check it.
 */
import type { NormalizedMessage } from './message';
import { normalizeForMatching } from './text';

export const MODEL_CATEGORIES = ['security', 'billing', 'calendar', 'support', 'promotion', 'other'] as const;
export type ModelCategory = (typeof MODEL_CATEGORIES)[number];

/**
 * Which features a model was trained with (all off: the first model's features). Stored with the weights, so
 * that a message is always described to a model the way its training messages were.
 */
export interface FeatureOptions {
  /** The sender's domain labels (`d:`) and display-name words (`n:`), and whether Reply-To is elsewhere. */
  sender?: boolean;
  /** Subject words also as body words, so that a subject word weighs on both. */
  subjectAsBody?: boolean;
  /** Runs of Chinese/Japanese characters as character pairs (they have no spaces to split words on). */
  cjk?: boolean;
  /**
   * Leave out whether the message answers another (In-Reply-To). Every real reply has the header, but in the
   * labelled sets only help desks' replies do, so a model learns "reply = support" from it.
   */
  noReplyFlag?: boolean;
}

export interface ModelWeights {
  /** Feature buckets (a power of two); a feature's bucket is its FNV-1a hash modulo this. */
  buckets: number;
  categories: ModelCategory[];
  bias: number[];
  /** bucket -> one weight per category; buckets absent here weigh 0. */
  weights: Record<string, number[]>;
  /** The features the model was trained with; absent: none of the optional ones. */
  features?: FeatureOptions;
}

const MAX_BODY_WORDS = 400;
const MAX_SIGNATURE_WORDS = 40;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

function tokens(text: string, options: FeatureOptions = {}): string[] {
  const out: string[] = [];
  for (const raw of normalizeForMatching(text).toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'_-]*/gu) ?? []) {
    const w = raw.replace(/\d/g, '0').replace(/['_-]+$/, '');
    if (options.cjk && CJK.test(w)) {
      const chars = [...w];
      if (chars.length <= 2) out.push(w);
      else for (let i = 0; i + 1 < chars.length && i < 60; i++) out.push(`${chars[i]}${chars[i + 1]}`);
      continue;
    }
    if (w.length >= 2 && w.length <= 30) out.push(w);
  }
  return out;
}

function isForward(subject: string): boolean {
  return /^(?:(?:re|aw)\s*:\s*)*(?:fw|fwd|wg|tr|rv|enc)\s*:/i.test(subject.trim());
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** The message's features as strings, each present once. */
export function messageFeatures(m: NormalizedMessage, options: FeatureOptions = {}): string[] {
  const features = new Set<string>();
  const subject = (m.subject ?? '').replace(/^(?:\s*(?:re|fw|fwd|aw|wg|tr|rv|sv|vs|enc|antw)\s*:\s*)+/i, '');
  const subjectWords = tokens(subject, options);
  for (const w of subjectWords) features.add(`s:${w}`);
  const body = isForward(m.subject ?? '') ? m.bodyText : m.cleanBody;
  for (const w of tokens(body ?? '', options).slice(0, MAX_BODY_WORDS)) features.add(`b:${w}`);
  if (options.subjectAsBody) for (const w of subjectWords) features.add(`b:${w}`);
  for (const w of tokens(m.signature ?? '', options).slice(0, MAX_SIGNATURE_WORDS)) features.add(`g:${w}`);

  const address = m.from?.address ?? '';
  const local = address.slice(0, Math.max(0, address.lastIndexOf('@'))).toLowerCase();
  for (const part of local.split(/[-_.+]/)) if (/^[a-z]{2,}$/.test(part)) features.add(`l:${part}`);
  if (options.sender && address.includes('@')) {
    const labels = domainOf(address).split('.');
    // the registrable part and the subdomains, not the top-level domain (mail.example.com -> mail, example)
    for (const label of labels.slice(0, -1)) if (/^[a-z][a-z0-9-]{1,}$/.test(label)) features.add(`d:${label}`);
    for (const w of tokens(m.from?.name ?? '', options).slice(0, 8)) features.add(`n:${w}`);
    const replyTo = m.replyTo[0]?.address;
    if (replyTo && domainOf(replyTo) !== domainOf(address)) features.add('h:reply-to-elsewhere');
    if (!m.from?.name) features.add('h:no-display-name');
  }

  const h = m.headers;
  if (h.listUnsubscribe) features.add('h:list-unsubscribe');
  if (h.listId) features.add('h:list-id');
  if (h.feedbackId) features.add('h:feedback-id');
  if (h.precedence) features.add(`h:precedence-${h.precedence.toLowerCase().trim()}`);
  if (h.autoSubmitted && !/^\s*no\b/i.test(h.autoSubmitted)) features.add('h:auto-submitted');
  if (m.inReplyTo && !options.noReplyFlag) features.add('h:in-reply-to');
  if (m.hasCalendarInvite) features.add('h:calendar-part');
  if (m.attachments.length > 0) features.add('h:attachment');
  if (m.attachments.some((a) => a.mimeType === 'application/pdf' || /\.pdf$/i.test(a.filename))) features.add('h:pdf');
  if (m.signature) features.add('h:signature');
  for (const label of m.labelIds ?? []) if (label.startsWith('CATEGORY_')) features.add(`h:${label.toLowerCase()}`);
  return [...features];
}

/** FNV-1a, 32 bits. */
export function featureBucket(feature: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < feature.length; i++) {
    hash ^= feature.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % buckets;
}

/** Binary features scaled to unit length, as the model was trained. */
export function featureVector(features: string[], buckets: number): Map<number, number> {
  const vector = new Map<number, number>();
  for (const f of features) vector.set(featureBucket(f, buckets), 1);
  const norm = Math.sqrt(vector.size) || 1;
  for (const [k, v] of vector) vector.set(k, v / norm);
  return vector;
}

export function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export interface Prediction {
  category: ModelCategory;
  probability: number;
  probabilities: Record<ModelCategory, number>;
  /** The features that pushed most towards the predicted category, strongest first. */
  because: string[];
}

export function predict(m: NormalizedMessage, model: ModelWeights): Prediction {
  const features = messageFeatures(m, model.features ?? {});
  const vector = featureVector(features, model.buckets);
  const scores = [...model.bias];
  const contributions: { feature: string; by: number[] }[] = [];
  const seen = new Set<number>();
  for (const f of features) {
    const bucket = featureBucket(f, model.buckets);
    const w = model.weights[String(bucket)];
    if (seen.has(bucket)) continue;
    seen.add(bucket);
    if (!w) continue;
    const x = vector.get(bucket) ?? 0;
    for (let c = 0; c < scores.length; c++) scores[c] = (scores[c] ?? 0) + (w[c] ?? 0) * x;
    contributions.push({ feature: f, by: w });
  }
  const p = softmax(scores);
  let best = 0;
  for (let c = 1; c < p.length; c++) if ((p[c] ?? 0) > (p[best] ?? 0)) best = c;
  const probabilities = Object.fromEntries(model.categories.map((c, i) => [c, p[i] ?? 0])) as Record<ModelCategory, number>;
  // how much a feature favours the winner over the average category
  const push = (by: number[]) => (by[best] ?? 0) - by.reduce((a, b) => a + b, 0) / by.length;
  const because = contributions
    .filter((c) => push(c.by) > 0)
    .sort((a, b) => push(b.by) - push(a.by) || a.feature.localeCompare(b.feature))
    .slice(0, 5)
    .map((c) => c.feature);
  return { category: model.categories[best] ?? 'other', probability: p[best] ?? 0, probabilities, because };
}
