/**
 * Classify a normalised Gmail message (and a thread) into one coarse category, deterministically and with
 * reasons a person can check.
 *
 * Signals (computed once per message, see `extractSignals`):
 * - text: the subject, and the new part of the body (`cleanBody`: no quoted history, no signature), so an
 *   old invoice quoted at the bottom of a support reply does not count. A forward (subject "Fwd:"/"FW:") is
 *   read in full (`bodyText`): the forwarded part is its content.
 * - headers: bulk = List-Unsubscribe, List-Id, Feedback-ID or Precedence bulk/list/junk; automated =
 *   Auto-Submitted other than "no", X-Auto-Response-Suppress, or a no-reply style local part.
 * - newsletter = a bulk message that calls itself one: "newsletter", "view in browser/on the web",
 *   "you are receiving this because you subscribed/signed up", "forward to a friend".
 * - sender: role local parts (security@, billing@, receipts@, support@, help@, newsletter@, deals@...),
 *   payment processors' domains (stripe, paypal, square, paddle...), helpdesk platforms' domains (zendesk,
 *   freshdesk, intercom, help scout...) in From, Reply-To or the Message-ID.
 * - keyword families per category (English plus common French, German, Spanish, Italian, Portuguese
 *   forms), counted as distinct families hit in the subject and in the body; an amount with a currency.
 *
 * Rules, first match wins (the order is the precedence):
 *  1. calendar/structured: a text/calendar part or .ics file. Machine-readable invites are unambiguous.
 *  2. support/structured: a ticket or case id in the subject ("[Ticket #123]", "Case 00981234",
 *     "[#8812]"), a helpdesk platform as sender / reply-to / Message-ID host (not when the message is a
 *     bulk marketing send through that platform), or a helpdesk reply separator ("reply above this line").
 *     A ticket is a conversation about a problem: its topic (a refund, a login failure) is secondary, so it
 *     outranks the topical rules below.
 *  3. calendar/subject: a calendar system's subject prefix ("Invitation:", "Updated invitation:",
 *     "Accepted:", "Declined:", "Canceled event:", "Notification:", localized) with a "@ <date>" in the
 *     subject or a calendar cue in the body.
 *  4. security: account-security wording (new sign-in, password reset/changed, verification/security code,
 *     2FA, suspicious/unusual activity, "if this wasn't you") in the subject; or in the body twice, or once
 *     from an automated or security sender. Bulk headers do not matter: a security alert sent through a bulk
 *     platform with List-Unsubscribe is still a security alert. Checked before billing because an account
 *     event (e.g. PayPal's "password changed") matters more than who sent it.
 *  5. billing: invoice/receipt/payment/renewal/refund/order wording in the subject, backed by an amount with
 *     a currency, a billing sender, or more billing wording in the body; or a billing sender (billing@,
 *     receipts@, a payment processor) with billing wording or an amount; or two billing families plus an
 *     amount in the body. Transactional mail from a store that also carries List-Unsubscribe and a promo
 *     block is billing, not promotion: the transaction is why it was sent.
 *  6. calendar/text: invites without a calendar part: two calendar cues (join links for Meet/Zoom/Teams,
 *     meeting id, "has invited you", RSVP, "add to calendar", appointment, "When:"), or one cue with an
 *     invitation/meeting/event word and a time in the subject.
 *  7. support/keywords: support wording ("we've received your request", "case number", "thank you for
 *     contacting support", "customer care") twice, or once in the subject, or once from a support sender.
 *  8. promotion: a bulk message (headers) or one with an unsubscribe link in the body, that calls itself a
 *     newsletter or uses marketing phrasing (% off, sale, shop now, promo code, limited time, free shipping,
 *     what's new, webinar...); or three marketing families anywhere; or a marketing sender (newsletter@,
 *     deals@, offers@) on a bulk message. Bulk alone is not promotion (GitHub notifications, mailing lists),
 *     and a personal mail that says "on sale, 40% off" in passing is not either.
 *  9. other.
 * Newsletters (rule 8's self-identification) are content, not account events: rules 4, 5, 6 and 7 ignore
 * them unless the sender has the matching role (a security@ or billing@ address), so a newsletter about
 * invoices or passwords stays a promotion.
 *
 * A thread (see `classifyThread`) takes the category of the earliest message that matched a structured rule
 * (1-3: an invite or a ticket describes the whole thread); otherwise the first message's category when it is
 * not "other" (the first message says why the thread exists); otherwise the most frequent category among the
 * replies, when it covers at least half of them; otherwise "other".
 */
import type { NormalizedMessage } from './message';

export type EmailCategory = 'security' | 'billing' | 'calendar' | 'support' | 'promotion' | 'other';

export interface Classification {
  category: EmailCategory;
  reasons: string[];
}

type Family = { name: string; re: RegExp };

const fam = (name: string, re: RegExp): Family => ({ name, re });

// ---------------------------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------------------------

const SECURITY: Family[] = [
  fam('new sign-in', /\bnew (?:sign[- ]?in|log[- ]?in|login|device sign[- ]?in)\b|\bnouvelle connexion\b|\bneue anmeldung\b|\bnuevo inicio de sesi[oó]n\b|\bnuovo accesso\b|\bnovo (?:login|acesso)\b/),
  fam('sign-in attempt', /\b(?:sign[- ]?in|log[- ]?in|login) attempt\b|\bused to sign in\b|\bintento de inicio de sesi[oó]n\b|\btentative de connexion\b|\banmeldeversuch\b/),
  fam('password reset/change', /\bpassword (?:reset|recovery|change|was changed|has been changed|changed)\b|\b(?:reset|change|update) (?:your )?(?:\w+ )?password\b|\bmot de passe (?:a été )?(?:modifié|changé|réinitialisé)|\b(?:modifiez|réinitialisez|changez) (?:votre|immédiatement votre) mot de passe\b|\bpasswort (?:wurde )?(?:geändert|zurückgesetzt)|\bpasswort (?:ändern|zurücksetzen)\b|\b(?:cambi|restablec)\w* (?:tu |su )?contraseña\b|\bcontraseña (?:cambiada|restablecida)\b|\breimposta(?:re)? (?:la )?password\b/),
  fam('verification code', /\b(?:verification|security|confirmation|login|sign-in|one[- ]time|authentication|access) code\b|\bone[- ]time pass(?:word|code)\b|\botp\b|\bcode de (?:vérification|sécurité|confirmation)\b|\b(?:bestätigungs|sicherheits|verifizierungs|anmelde)code\b|\bc[oó]digo de (?:verificaci[oó]n|seguridad|confirmaci[oó]n|verifica[cç][aã]o)\b|\bcodice di (?:verifica|sicurezza)\b/),
  fam('2fa', /\b(?:2-step|two-step|2-factor|two-factor|multi-factor) (?:verification|authentication)\b|\b2fa\b|\bmfa\b|\bzwei-faktor|\bverificaci[oó]n en dos pasos\b|\bdouble authentification\b|\bautenticaci[oó]n de dos factores\b/),
  fam('suspicious activity', /\b(?:suspicious|unusual|unrecognized) (?:activity|sign[- ]?in|log[- ]?in|login|device)\b|\bactivité (?:suspecte|inhabituelle)\b|\bverdächtige aktivität\b|\bungewöhnliche aktivität\b|\bactividad (?:sospechosa|inusual)\b|\battività sospetta\b/),
  fam('security alert', /\bsecurity (?:alert|notice|warning|notification)\b|\balerte de sécurité\b|\bsicherheits(?:hinweis|warnung)\b|\balerta de seguridad\b|\bavviso di sicurezza\b/),
  fam('was this you', /\b(?:was|is) this you\b|\bif this (?:wasn'?t|was not) you\b|\bif you did(?:n'?t| not) (?:make this change|change your password|attempt|sign in|request (?:this|a) (?:code|password))|\bsecure your account\b|\bsomeone (?:else )?may (?:be accessing|have accessed)\b|\bsi vous n'êtes pas à l'origine\b|\bwenn sie (?:das|dies) nicht waren\b|\bsi no (?:fuiste|has sido) tú\b/),
];

const BILLING: Family[] = [
  fam('invoice', /\binvoices?\b|\brechnung\w*\b|\bfactur(?:e|a|as|es)\b|\bfattura\b|\bfatura\b|請求/),
  fam('receipt', /\breceipts?\b|\bquittung\b|\breçu\b|\brecibo\b|\bricevuta\b|領収/),
  fam('payment', /\bpayments?\b|\bpaid\b|\bpaiement\b|\bzahlung\b|\bpago\b|\bpagamento\b|お支払い|支払/),
  fam('amount due/total', /\b(?:amount|balance|total) (?:due|paid|charged|owed)\b|\bamount charged\b|\btotal:|\bsubtotal\b|\bmontant\b|\bbetrag\b|\bimporte\b|\bimporto\b|合計|ご請求額/),
  fam('bill/statement', /\bbilling\b|\bbill (?:is ready|is available|for)\b|\byour (?:\w+ )?bill\b|\b(?:billing|account) statement\b|\bstatement (?:is )?(?:ready|available)\b/),
  fam('subscription renewal', /\b(?:subscription|plan|membership) (?:renews|will renew|renewal|has been renewed)\b|\brenews (?:on|in|soon)\b|\bauto-?renew|\brenouvellement\b|\bverlängerung\b|\brenovaci[oó]n\b/),
  fam('charge', /\b(?:will be|was|been|we'?ll|we will) charged?\b|\bcharge[ds]? (?:\S+ )?to your\b|\bcard (?:ending|declined)\b|\bdirect debit\b|\bprélèvement\b|\babgebucht\b|\blastschrift\b|\bcargo\b/),
  fam('refund', /\brefund(?:ed|s)?\b|\bremboursement\b|\berstattung\b|\breembolso\b|\brimborso\b/),
  fam('order confirmation', /\border (?:confirmation|confirmed|receipt|is confirmed)\b|\bthank(?:s| you) for your (?:order|purchase)\b|\byour order #|\bcommande confirmée\b|\bbestellbestätigung\b|\bconfirmaci[oó]n (?:de|del) pedido\b|注文/),
];

const BILLING_SUBJECT_OK = new Set(['invoice', 'receipt', 'payment', 'bill/statement', 'subscription renewal', 'charge', 'refund', 'order confirmation', 'amount due/total']);

const CURRENCY_AMOUNT =
  /(?:[$€£¥₹￥]|\bus\$|\b(?:usd|eur|gbp|chf|cad|aud|jpy|inr|sek|nok|dkk)\b)\s?\d[\d,.]*|\b\d[\d.,]*\s?(?:€|£|\b(?:usd|eur|gbp|chf|cad|aud|jpy|sek|nok|dkk)\b|\bkr\b)/i;

const CALENDAR_CUES: Family[] = [
  fam('video meeting link', /\bjoin (?:with )?google meet\b|meet\.google\.com\/|\bjoin zoom meeting\b|zoom\.us\/j\/|\bmicrosoft teams meeting\b|teams\.microsoft\.com\/l\/meetup-join|\bwebex\.com\/meet/),
  fam('meeting id', /\bmeeting id\b|\bmeeting-id\b|\bid de (?:la )?réunion\b|\bbesprechungs-id\b/),
  fam('invited you', /\b(?:has|have) (?:been )?invited you\b|\byou have been invited to\b|\bis inviting you to\b|\binvites you to\b|\bsie wurden zu folgendem termin eingeladen\b|\bhas recibido una invitaci[oó]n\b|\bvous avez été invité/),
  fam('invitation reply', /\b(?:has|have) (?:tentatively )?(?:accepted|declined) this invitation\b|\binvitation from google calendar\b|\bthis event has been (?:updated|canceled|cancelled|changed)\b|\bevent has been (?:scheduled|canceled|cancelled|rescheduled)\b|\bnew event has been scheduled\b/),
  fam('rsvp', /\brsvp\b|\byes\s*\/\s*no\s*\/\s*maybe\b|\bja\s*\/\s*nein\s*\/\s*vielleicht\b|\bs[ií]\s*\/\s*no\s*\/\s*quiz[aá]s\b|\boui\s*\/\s*non\s*\/\s*peut-être\b|\bgoing\?/),
  fam('add to calendar', /\badd to (?:your |my )?calendar\b|\bview (?:event|on google calendar)\b|\.ics\b|\bzum kalender hinzufügen\b|\bajouter (?:à|au) (?:mon |votre )?(?:agenda|calendrier)\b/),
  fam('appointment', /\b(?:your |upcoming )?appointment\b|\brendez-vous\b|\btermin\b|\bcita\b/),
  fam('when/where fields', /^(?:when|wann|cuándo|quand|quando|event date\/time|date\/time|time)\s*:/m),
  fam('event type', /\bevent type\b|\binvitee\b/),
];

const CALENDAR_PREFIX =
  /^(?:(?:updated )?invitation(?: with note)?|invitation updated|updated event|new event|event (?:canceled|cancelled|updated)|cancell?ed(?: event)?|(?:tentatively )?accepted|declined|tentative|notification|reminder|einladung|aktualisierte einladung|angenommen|abgelehnt|abgesagt|mit vorbehalt angenommen|invitation mise à jour|accepté|refusé|annulé|invitación(?: actualizada)?|aceptado|rechazado|cancelado|invito|invito aggiornato|accettato|rifiutato|convite)\s*:/i;

const SUBJECT_AT_DATE = /\s@\s.*\d/;

const TIME_CUE =
  /\b\d{1,2}(?::\d{2})?\s?(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\b\d{1,2}h\d{0,2}\b|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,? (?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;

const EVENT_WORD = /\b(?:invite|invitation|invited|meeting|appointment|event|call|einladung|termin|réunion|invitaci[oó]n|reuni[oó]n)\b/i;

const SUPPORT: Family[] = [
  fam('request received', /\bwe(?:'ve| have) received your (?:request|message|inquiry|enquiry|email|ticket|case)\b|\breceived your request\b|\b(?:a )?ticket has been (?:created|opened)\b|\bvielen dank für ihre anfrage\b|\bnous avons (?:bien )?reçu votre (?:demande|message)\b|\bhemos recibido (?:tu|su) (?:solicitud|mensaje|consulta)\b/),
  fam('case/ticket number', /\b(?:ticket|case|request|incident) (?:number|no\.?|id|#)|\byour (?:case|ticket|request) (?:number |id )?(?:is|has been)\b|\bcase id\b|\bticketnummer\b|\bnuméro de (?:ticket|dossier|demande)\b|\bn[uú]mero de (?:caso|ticket|solicitud)\b/),
  fam('contacting support', /\bthank(?:s| you) for (?:contacting|reaching out to) (?:\w+ ){0,3}(?:support|customer (?:care|service)|help|team|us)\b|\bthanks for reaching out\b|\bgracias por contactar\b|\bmerci d'avoir contacté\b/),
  fam('support team', /\b(?:customer|technical|tech) (?:support|care|service)\b|\bsupport (?:team|agent|engineer|representative|request)\b|\bhelp ?desk\b|\bkundenservice\b|\bkundendienst\b|\bservice client\b|\batenci[oó]n al cliente\b|\bequipo de soporte\b/),
  fam('resolution', /\bhas been (?:solved|resolved)\b|\bto reopen (?:this|the) (?:request|ticket)\b|\bmarked (?:as )?resolved\b/),
];

const SUPPORT_SUBJECT_ID: RegExp[] = [
  /\[(?:ticket|case|request|incident|caso|cas|anfrage|solicitud|chamado)\s*[#:]?\s*[\w-]*\d{3,}[^\]]*\]/i,
  /\b(?:ticket|case|request|incident|caso|anfrage|solicitud|chamado|fall)\s*(?:#|no\.?|number|nr\.?|id|n°|nº)?\s*:?\s*#?\d{4,}\b/i,
  /\[[^\]]*#\d{3,}\]/,
];

const HELPDESK_REPLY_SEPARATOR = /(?:please )?(?:type|write|reply|add) (?:your (?:reply|response) )?above this line/i;

const HELPDESK_DOMAINS = [
  'zendesk.com', 'freshdesk.com', 'freshservice.com', 'intercom-mail.com', 'intercom.io', 'helpscout.net',
  'helpscout.com', 'kayako.com', 'zohodesk.com', 'desk.com', 'gorgias.com', 'gorgias.help', 'happyfox.com',
  'supportbee.com', 'helpshift.com', 'groovehq.com', 'reamaze.com', 'service-now.com', 'teamsupport.com',
];

const PAYMENT_DOMAINS = [
  'stripe.com', 'squareup.com', 'paddle.com', 'chargebee.com', 'recurly.com', 'braintreegateway.com',
  'gocardless.com', 'bill.com', 'intuit.com', 'xero.com', 'freshbooks.com', 'waveapps.com', 'zuora.com',
  'fastspring.com', 'adyen.com', 'invoice2go.com', 'sumup.com',
];

const MARKETING: Family[] = [
  fam('% off', /\d+\s?%\s?off\b|\b\d+\s?%\s?(?:de )?(?:descuento|rabatt|réduction|remise|sconto)\b|(?:^|\s)-\d+\s?%|\bsave \d+\s?%|\bhasta (?:un )?\d+\s?%|\bjusqu'à -?\d+\s?%|\bbis zu \d+\s?%/),
  fam('sale', /\b(?:sale|flash sale|clearance|black friday|cyber monday)\b|\bsoldes\b|\brebajas\b|\bsaldi\b|\bschlussverkauf\b/),
  fam('call to action', /\bshop (?:now|the sale|the collection)\b|\bbuy now\b|\border now\b|\bbook now\b|\bclaim (?:my|your)\b|\bsave your seat\b|\bregister (?:now|today|anyway)\b|\bgrab your\b|\bj'en profite\b|\bjetzt (?:entdecken|kaufen|sichern|shoppen)\b|\bcompra ahora\b|\bdescubre\b/),
  fam('urgency', /\blimited[- ]time\b|\blast chance\b|\bends (?:tonight|today|sunday|soon|at midnight)\b|\bwhile supplies last\b|\boffer ends\b|\bhurry\b|\bdon'?t miss\b|\bnur (?:noch )?heute\b|\bderniers jours\b|\búltimos días\b/),
  fam('free shipping', /\bfree shipping\b|\blivraison (?:offerte|gratuite)\b|\benv[ií]o gratis\b|\bversandkostenfrei\b|\bspedizione gratuita\b/),
  fam('coupon', /\bpromo(?:tion(?:al)?)? code\b|\bcoupon\b|\bdiscount\b|\bgutschein(?:code)?\b|\bcode promo\b|\buse code\b|\bc[oó]digo (?:promocional|de descuento)\b|\bdescuento\b|\brabatt\b/),
  fam('offer/deals', /\bexclusive (?:offer|deal|access)\b|\bspecial offer\b|\bdeals?\b|\bbest ?sellers?\b|\bnew arrivals\b|\bsonderangebot|\bangebote\b|\bofertas?\b|\boffres?\b|\bofferte\b|\bmonths? (?:free|on us)\b|\bfree (?:trial|gift|months?)\b/),
  fam('re-engagement', /\bwe miss you\b|\bcome back\b|\bit'?s been a while\b/),
  fam('product news', /\bwhat'?s new\b|\bintroducing\b|\bnew features?\b|\bproduct updates?\b|\blearn more\b|\bwebinar\b|\bneuheiten\b|\bnouveautés\b|\bnovedades\b/),
];

const NEWSLETTER_SELF_ID =
  /\bnewsletter\b|\bview (?:this (?:e-?mail|post|message|issue) )?(?:in|on) (?:your |the |a )?(?:browser|web)\b|\bview (?:it )?online\b|\bread (?:it )?online\b|\bforward (?:it|this(?: email)?) to a friend\b|\byou(?:'re| are)? (?:receiving|received|getting|get) this (?:e-?mail |message )?because you(?:'ve| have)? (?:subscribed|signed up|opted in)\b|\bweekly digest\b|\bmonthly digest\b|\bdigest\b/;

const UNSUBSCRIBE_TEXT =
  /\bunsubscribe\b|\bopt[- ]out\b|\bdésinscri|\bdésabonner\b|\babmelden\b|\babbestellen\b|\bdar(?:te|se)? de baja\b|\bdisiscriviti\b|\bcancelar (?:la )?suscripci[oó]n\b|\bemail preferences\b/;

const NOREPLY_LOCAL = /^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply|notifications?|notify|alerts?|mailer|auto[-_.]?confirm|automated)(?:[-_.+].*)?$|(?:^|[-_.])no[-_.]?reply(?:[-_.+]|$)/;
const SECURITY_LOCAL = /(?:^|[-_.+])(?:security|secure|account[-_.]?security|accountprotection|verify|verification|securite|sicherheit|seguridad)(?:[-_.+]|$)/;
const BILLING_LOCAL = /^(?:billing|invoices?|invoicing|receipts?|payments?|accounts?[-_.]?(?:payable|receivable)|ar|ap|ebilling|e-billing|statements?|rechnung(?:en)?|facture|factures|facturation|factura|facturacion|fatture|orders?|auto-confirm)(?:[-_.+].*)?$/;
const SUPPORT_LOCAL = /^(?:support|help|helpdesk|care|customer[-_.]?care|customer[-_.]?service|customerservice|service[-_.]?desk|servicedesk|it[-_.]?help|soporte|kundenservice|kundendienst|assistance|hilfe|ayuda|supporto)(?:[-_.+].*)?$/;
const MARKETING_LOCAL = /^(?:newsletters?|news|marketing|offers?|deals|promo|promos|promotions?|ofertas|angebote|sales|store-news|shop)(?:[-_.+].*)?$/;

// ---------------------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------------------

interface Signals {
  subject: string;
  body: string;
  fromLocal: string;
  fromDomain: string;
  hostDomains: { where: string; domain: string }[];
  bulk: string[];
  automated: string[];
  newsletter: boolean;
  unsubscribeText: boolean;
  amount: string | null;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1).toLowerCase().replace(/>$/, '') : '';
}

function matchesDomain(domain: string, list: string[]): string | null {
  for (const d of list) if (domain === d || domain.endsWith(`.${d}`)) return d;
  return null;
}

function stripReplyPrefixes(subject: string): string {
  let s = subject.trim();
  for (let i = 0; i < 5; i++) {
    const next = s.replace(/^(?:re|fw|fwd|aw|wg|tr|rv|sv|vs|enc|r|res|antw)\s*(?:\[\d+\])?\s*:\s*/i, '');
    if (next === s) break;
    s = next;
  }
  return s;
}

function isForward(subject: string): boolean {
  return /^(?:(?:re|aw)\s*:\s*)*(?:fw|fwd|wg|tr|rv|enc)\s*:/i.test(subject.trim());
}

function extractSignals(m: NormalizedMessage): Signals {
  const subject = stripReplyPrefixes(m.subject ?? '').toLowerCase();
  const rawBody = isForward(m.subject ?? '') ? m.bodyText : m.cleanBody;
  const body = (rawBody ?? '').toLowerCase();
  const fromAddr = m.from?.address ?? '';
  const fromLocal = fromAddr.slice(0, Math.max(0, fromAddr.lastIndexOf('@'))).toLowerCase();
  const fromDomain = domainOf(fromAddr);

  const hostDomains: { where: string; domain: string }[] = [];
  if (fromDomain) hostDomains.push({ where: 'from', domain: fromDomain });
  for (const r of m.replyTo ?? []) hostDomains.push({ where: 'reply-to', domain: domainOf(r.address) });
  if (m.messageIdHeader) hostDomains.push({ where: 'message-id', domain: domainOf(m.messageIdHeader) });

  const h = m.headers;
  const bulk: string[] = [];
  if (h.listUnsubscribe) bulk.push('List-Unsubscribe');
  if (h.listId) bulk.push('List-Id');
  if (h.feedbackId) bulk.push('Feedback-ID');
  if (h.precedence && /\b(?:bulk|list|junk)\b/i.test(h.precedence)) bulk.push(`Precedence: ${h.precedence.toLowerCase()}`);

  const automated: string[] = [];
  if (h.autoSubmitted && !/^\s*no\b/i.test(h.autoSubmitted)) automated.push(`Auto-Submitted: ${h.autoSubmitted}`);
  if (h.autoResponseSuppress) automated.push('X-Auto-Response-Suppress');
  if (NOREPLY_LOCAL.test(fromLocal)) automated.push(`no-reply sender ${fromLocal}@`);

  const fullText = `${subject}\n${body}`;
  const unsubscribeText = UNSUBSCRIBE_TEXT.test(fullText);
  const newsletter = (bulk.length > 0 || unsubscribeText) && NEWSLETTER_SELF_ID.test(fullText);
  const amountMatch = CURRENCY_AMOUNT.exec(`${m.subject ?? ''}\n${rawBody ?? ''}`);

  return {
    subject,
    body,
    fromLocal,
    fromDomain,
    hostDomains,
    bulk,
    automated,
    newsletter,
    unsubscribeText,
    amount: amountMatch ? amountMatch[0].trim() : null,
  };
}

function hits(families: Family[], text: string): string[] {
  return families.filter((f) => f.re.test(text)).map((f) => f.name);
}

const list = (xs: string[]) => xs.join(', ');

// ---------------------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------------------

interface RuleResult extends Classification {
  rule: string;
  structured: boolean;
}

function result(category: EmailCategory, rule: string, structured: boolean, reasons: string[]): RuleResult {
  return { category, rule, structured, reasons: [`rule ${rule}`, ...reasons] };
}

function evaluate(m: NormalizedMessage): RuleResult {
  const s = extractSignals(m);
  const context: string[] = [];
  if (s.bulk.length > 0) context.push(`bulk headers: ${list(s.bulk)}`);
  if (s.newsletter) context.push('self-identified newsletter');

  // 1. calendar/structured
  if (m.hasCalendarInvite) {
    return result('calendar', '1 calendar/structured', true, ['text/calendar part or .ics attachment']);
  }

  // 2. support/structured
  const subjectId = SUPPORT_SUBJECT_ID.map((re) => re.exec(m.subject ?? '')).find((x) => x !== null);
  if (subjectId) {
    return result('support', '2 support/structured', true, [`ticket/case id in subject: "${subjectId[0]}"`]);
  }
  const marketingAll = hits(MARKETING, `${s.subject}\n${s.body}`);
  const bulkMarketing = s.newsletter || (s.bulk.length > 0 && marketingAll.length > 0);
  const supportHitsAll = hits(SUPPORT, `${s.subject}\n${s.body}`);
  for (const { where, domain } of s.hostDomains) {
    const platform = matchesDomain(domain, HELPDESK_DOMAINS);
    if (platform && (!bulkMarketing || supportHitsAll.length > 0)) {
      return result('support', '2 support/structured', true, [`helpdesk platform ${platform} (${where})`]);
    }
  }
  if (HELPDESK_REPLY_SEPARATOR.test(s.body)) {
    return result('support', '2 support/structured', true, ['helpdesk reply separator ("reply above this line")']);
  }

  const calendarCues = hits(CALENDAR_CUES, s.body);

  // 3. calendar/subject
  if (CALENDAR_PREFIX.test(s.subject) && (SUBJECT_AT_DATE.test(s.subject) || calendarCues.length > 0)) {
    const why = SUBJECT_AT_DATE.test(s.subject) ? 'with "@ <date>"' : `with body cues: ${list(calendarCues)}`;
    return result('calendar', '3 calendar/subject', true, [`calendar subject prefix "${(/^[^:]+:/.exec(s.subject) ?? [''])[0]}" ${why}`]);
  }

  // 4. security
  const securityRole = SECURITY_LOCAL.test(s.fromLocal) || /^(?:accounts?|accountprotection|security)\./.test(s.fromDomain);
  if (!s.newsletter || securityRole) {
    const subj = hits(SECURITY, s.subject);
    if (subj.length > 0) {
      return result('security', '4 security', false, [`security wording in subject: ${list(subj)}`, ...context]);
    }
    const body = hits(SECURITY, s.body);
    if (body.length >= 2) {
      return result('security', '4 security', false, [`security wording in body: ${list(body)}`, ...context]);
    }
    if (body.length === 1 && (securityRole || s.automated.length > 0)) {
      const who = securityRole ? `security sender ${s.fromLocal}@${s.fromDomain}` : list(s.automated);
      return result('security', '4 security', false, [`security wording in body: ${list(body)}`, `from ${who}`, ...context]);
    }
  }

  // 5. billing
  const payment = matchesDomain(s.fromDomain, PAYMENT_DOMAINS) ?? (/^paypal\./.test(s.fromDomain) || /\.paypal\./.test(s.fromDomain) ? 'paypal' : null);
  const billingRole = BILLING_LOCAL.test(s.fromLocal) || payment !== null;
  if (!s.newsletter || billingRole) {
    const subj = hits(BILLING, s.subject).filter((n) => BILLING_SUBJECT_OK.has(n));
    const body = hits(BILLING, s.body);
    const amount = s.amount ? [`amount ${s.amount}`] : [];
    const role = billingRole ? [payment ? `payment processor ${payment}` : `billing sender ${s.fromLocal}@`] : [];
    if (subj.length > 0 && (s.amount || billingRole || body.length > 0)) {
      return result('billing', '5 billing', false, [`billing wording in subject: ${list(subj)}`, ...amount, ...role, ...(body.length ? [`body: ${list(body)}`] : []), ...context]);
    }
    if (billingRole && (body.length > 0 || s.amount)) {
      return result('billing', '5 billing', false, [...role, ...(body.length ? [`billing wording in body: ${list(body)}`] : []), ...amount, ...context]);
    }
    if (body.length >= 2 && s.amount) {
      return result('billing', '5 billing', false, [`billing wording in body: ${list(body)}`, ...amount, ...context]);
    }
  }

  // 6. calendar/text
  if (!s.newsletter) {
    if (calendarCues.length >= 2) {
      return result('calendar', '6 calendar/text', false, [`calendar cues: ${list(calendarCues)}`]);
    }
    if (calendarCues.length === 1 && EVENT_WORD.test(s.subject) && TIME_CUE.test(s.subject)) {
      return result('calendar', '6 calendar/text', false, [`calendar cue: ${list(calendarCues)}`, 'event word and time in subject']);
    }
  }

  // 7. support/keywords
  const supportRole = SUPPORT_LOCAL.test(s.fromLocal);
  if (!s.newsletter || supportRole) {
    const subj = hits(SUPPORT, s.subject);
    const all = supportHitsAll;
    if (all.length >= 2 || subj.length > 0 || (supportRole && all.length > 0)) {
      return result('support', '7 support/keywords', false, [
        `support wording: ${list(all)}`,
        ...(supportRole ? [`support sender ${s.fromLocal}@`] : []),
      ]);
    }
  }

  // 8. promotion
  const marketingRole = MARKETING_LOCAL.test(s.fromLocal);
  if ((s.bulk.length > 0 || s.unsubscribeText) && (s.newsletter || marketingAll.length > 0)) {
    const why = s.bulk.length > 0 ? `bulk headers: ${list(s.bulk)}` : 'unsubscribe link in body';
    return result('promotion', '8 promotion', false, [
      why,
      ...(s.newsletter ? ['self-identified newsletter'] : []),
      ...(marketingAll.length ? [`marketing wording: ${list(marketingAll)}`] : []),
    ]);
  }
  if (marketingAll.length >= 3) {
    return result('promotion', '8 promotion', false, [`marketing wording: ${list(marketingAll)}`]);
  }
  if (marketingRole && s.bulk.length > 0) {
    return result('promotion', '8 promotion', false, [`marketing sender ${s.fromLocal}@`, `bulk headers: ${list(s.bulk)}`]);
  }

  // 9. other
  const reasons = ['no rule matched'];
  if (s.bulk.length > 0) reasons.push(`bulk headers without marketing wording: ${list(s.bulk)}`);
  if (s.automated.length > 0) reasons.push(`automated: ${list(s.automated)}`);
  return result('other', '9 other', false, reasons);
}

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

export function classifyMessage(m: NormalizedMessage): Classification {
  const { category, reasons } = evaluate(m);
  return { category, reasons };
}

/**
 * A thread's category: the earliest message matching a structured rule (calendar part, ticket id, helpdesk,
 * calendar subject) decides; else the first message if it is not "other"; else the most frequent category
 * among the replies when it covers at least half of them; else "other". Messages are taken in the order
 * given, which should be chronological (sort by internalDate first).
 */
export function classifyThread(messages: NormalizedMessage[]): Classification {
  if (messages.length === 0) return { category: 'other', reasons: ['empty thread'] };
  const results = messages.map((m) => evaluate(m));

  const structuredIdx = results.findIndex((r) => r.structured);
  if (structuredIdx >= 0) {
    const r = results[structuredIdx] as RuleResult;
    return { category: r.category, reasons: [`thread: structured match in message ${structuredIdx + 1}`, ...r.reasons] };
  }

  const first = results[0] as RuleResult;
  if (first.category !== 'other') {
    return { category: first.category, reasons: ['thread: first message', ...first.reasons] };
  }

  const replies = results.slice(1).filter((r) => r.category !== 'other');
  const counts = new Map<EmailCategory, number>();
  for (const r of replies) counts.set(r.category, (counts.get(r.category) ?? 0) + 1);
  let best: EmailCategory | null = null;
  let bestCount = 0;
  // deterministic tie-break: precedence order
  for (const c of ['calendar', 'support', 'security', 'billing', 'promotion'] as const) {
    const n = counts.get(c) ?? 0;
    if (n > bestCount) {
      best = c;
      bestCount = n;
    }
  }
  if (best && bestCount * 2 >= results.length - 1) {
    const r = results.find((x) => x.category === best) as RuleResult;
    return { category: best, reasons: [`thread: ${bestCount} of ${results.length - 1} replies`, ...r.reasons] };
  }
  return { category: 'other', reasons: ['thread: first message is other and no reply category dominates', ...first.reasons] };
}
