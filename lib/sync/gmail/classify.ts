/**
 * Classify a normalised Gmail message (and a thread) into one coarse category, deterministically and with
 * reasons a person can check.
 *
 * Signals (computed once per message, see `extractSignals`):
 * - text: the subject, and the new part of the body (`cleanBody`: no quoted history, no signature), so an
 *   old invoice quoted at the bottom of a support reply does not count. A forward (subject "Fwd:"/"FW:") is
 *   read in full (`bodyText`): the forwarded part is its content. All text is normalised first
 *   (`normalizeForMatching`: NFKC, typographic apostrophes and quotes, dashes and non-breaking hyphens,
 *   zero-width characters), so "we’ve received" and "sign‑in" match like their ASCII forms.
 * - headers: bulk = List-Unsubscribe, List-Id, Feedback-ID or Precedence bulk/list/junk; automated =
 *   Auto-Submitted other than "no", X-Auto-Response-Suppress, or a no-reply style local part. Gmail's own
 *   tab (a CATEGORY_* label) is a signal too: CATEGORY_PROMOTIONS counts like bulk headers for rule 8.
 * - newsletter = a bulk message that calls itself one: "newsletter", "view in browser/on the web",
 *   "you are receiving this because you subscribed/signed up", "forward to a friend", "read in app", "5 min
 *   read"; or a bulk send from a newsletter platform (Substack, beehiiv, Mailchimp...).
 * - sender: role local parts (security@, infosec@, billing@, receipts@, support@, help@, tickets@,
 *   newsletter@, deals@...), roles in the display name or the signature ("IT Security", "Customer Support
 *   Specialist"), payment processors' domains (stripe, paypal, square, paddle...), helpdesk platforms'
 *   domains (zendesk, freshdesk, intercom, help scout...) in From, Reply-To or the Message-ID; a personal
 *   sender (a consumer mailbox, or a local part made of the display name: "Ben Carter" <ben.carter@...>).
 * - keyword families per category (English plus common French, German, Spanish, Italian, Portuguese, Dutch
 *   forms), counted as distinct families hit in the subject and in the body; an amount with a currency.
 *
 * Rules, first match wins (the order is the precedence):
 *  1. calendar/structured: a text/calendar part or .ics file. Machine-readable invites are unambiguous.
 *  2. support/structured: a ticket or case id in the subject ("[Ticket #123]", "Case 00981234", "[#8812]",
 *     a tracker's key "[ITSD-4412]", "INC0012345", "request SR-20931"), a helpdesk platform as sender /
 *     reply-to / Message-ID host, or a help desk's marks in the body (a reply separator in any of the common
 *     languages, "##- ... -##", "Your request (12345)", a help-desk portal link); not when the message is a
 *     bulk marketing send through that platform.
 *     A ticket is a conversation about a problem: its topic (a refund, a login failure) is secondary, so it
 *     outranks the topical rules below.
 *  3. calendar/subject: a calendar system's subject prefix ("Invitation:", "Updated invitation:",
 *     "Accepted:", "Declined:", "Canceled event:", "Notification:", localized) with a "@ <date>" in the
 *     subject or a calendar cue in the body.
 *  4. security: account-security wording (new sign-in, password reset/changed/expiring, verification or
 *     access code, 2FA/MFA, suspicious/unusual activity, "if this wasn't you", an account locked or its
 *     e-mail or recovery address changed; in the European languages and in Japanese and Chinese: "connexion
 *     depuis un nouvel appareil", "ログインがありました", "メールアドレスが変更されました") or threat wording
 *     (phishing, malware, a vulnerability, "compromised", impersonation) in the subject; or in the body
 *     twice, or once from an automated sender or one with a security role (security@, "IT Security" in the
 *     name or the signature: a company's own IT staff warning its people). Bulk headers do not matter: a
 *     security alert sent through a bulk platform with List-Unsubscribe is still a security alert. Checked before billing because an account
 *     event (e.g. PayPal's "password changed") matters more than who sent it.
 *  5. billing: invoice/receipt/payment/renewal/refund/order wording in the subject, backed by an amount with
 *     a currency, a billing sender, or more billing wording in the body; or a billing sender (billing@,
 *     receipts@, a payment processor) with billing wording or an amount; or two billing families plus an
 *     amount in the body (a card on file "Visa ••••4417" and a money transfer count as billing wording).
 *     A support agent's reply about a bill is support (see rule 7's support sender), not billing.
 *     Transactional mail from a store that also carries List-Unsubscribe and a promo block is billing, not
 *     promotion: the transaction is why it was sent. A person writing from their own mailbox (no bulk or
 *     automated signal, nothing attached) only sends a bill with an instrument in it: an invoice number,
 *     payment terms, an IBAN, "please find attached"; otherwise they are talking about bills.
 *  6. calendar/text: invites without a calendar part: two calendar cues (join links for Meet/Zoom/Teams,
 *     meeting id, "has invited you", RSVP, "add to calendar", appointment, "When:", a scheduling poll), or
 *     one cue with an invitation/meeting/event word in the subject and a time in the subject or the body.
 *     calendar/scheduling: a person (no bulk, automated, role or marketing signal; not family, not cold
 *     outreach) setting, moving or cancelling a meeting: the subject or a sentence names a meeting (call, 1:1,
 *     lunch, Termin, réunion, cita, 打ち合わせ, 会议...) and asks to change it ("can we move our call to
 *     Thursday?", "On peut décaler notre rendez-vous ?") or proposes a day or an hour for it ("are you free
 *     for a quick chat Tuesday at 3?", "drinks Friday at 6?"), in a short note or under a subject about it;
 *     a request to move or cancel a named meeting also in a letter of up to 12 sentences.
 *  7. support/keywords: support wording ("we've received your request", "case number", "thank you for
 *     contacting support", "customer care") twice, or once in the subject, or once from a support sender
 *     (support@, "Acme Support" as the name, "Customer Support Specialist" in the signature), or once with
 *     an agent's reply wording ("thanks for your patience", "our engineers", "if the problem persists"); or
 *     a support sender's reply, or agent wording from a support sender. Help desks answer without templates.
 *     support/problem report: a person (no bulk or automated signal, not a monitoring system) telling about a
 *     problem with a product: problem wording (doesn't work, error, crash, can't log in, bug; Fehlermeldung,
 *     ne fonctionne pas, no funciona, エラー, 闪退...), a first-person report or request (since the update,
 *     when I click, I get, can you help) and a product (app, page, export, account...). Security notices
 *     matched rule 4 before; alerts and error digests stay "other".
 *  8. promotion: a bulk message that Gmail put in its Promotions tab; or a bulk message (headers), one with
 *     an unsubscribe link in the body or one in the Promotions tab, that calls itself a
 *     newsletter or uses marketing phrasing (% off, sale, shop now, promo code, limited time, free shipping,
 *     what's new, webinar...); or three marketing families anywhere; or a marketing sender (newsletter@,
 *     deals@, offers@) on a bulk message. Bulk alone is not promotion (GitHub notifications, mailing lists),
 *     and a personal mail that says "on sale, 40% off" in passing is not either, nor a newsletter a person
 *     forwards (its unsubscribe link is the forwarded mail's).
 *  9. the fallback model (`classifier-model.ts`: logistic regression over hashed words and header flags,
 *     weights in `classifier-weights.json`, trained by `dev/train-classifier.ts` on the tuned set,
 *     held-out batches 1-10 and the training corpus) when it
 *     gives a category other than "other" a probability of at least MODEL_MIN_PROBABILITY; else other.
 * Newsletters (rule 8's self-identification) are content, not account events: rules 4, 5, 6 and 7 ignore
 * them unless the sender has the matching role (a security@ or billing@ address), so a newsletter about
 * invoices or passwords stays a promotion.
 *
 * A thread (see `classifyThread`) takes the category of the earliest message that matched a structured rule
 * (1-3: an invite or a ticket describes the whole thread); otherwise the first message's category when it is
 * not "other" (the first message says why the thread exists); otherwise the most frequent category among the
 * replies, when it covers at least half of them; otherwise "other".
 */
import {
  ABANDONED_CART,
  AUTOMATED_TEXT,
  GOODS_PROBLEM,
  MORE_BILLING,
  MORE_CALENDAR_CUES,
  MORE_MARKETING,
  MORE_MEETING_CHANGE,
  MORE_MEETING_WORD,
  MORE_SCHEDULING_PROPOSAL,
  MORE_SECURITY,
  MORE_SLOT,
  MORE_SPECIFIC_TIME,
  MORE_SUPPORT,
  ORDER_REFERENCE,
  OUT_OF_OFFICE_SUBJECT,
  SHIPPING_NOTICE,
  TRANSFER_DETAILS,
} from './more-languages';
import { predict, type ModelWeights } from './classifier-model';
import shippedWeights from './classifier-weights.json' with { type: 'json' };
import type { NormalizedMessage } from './message';
import { normalizeForMatching } from './text';

export type EmailCategory = 'security' | 'billing' | 'calendar' | 'support' | 'promotion' | 'other';

export interface Classification {
  category: EmailCategory;
  reasons: string[];
}

export interface ClassifyOptions {
  /** The fallback model's weights; null classifies with the rules alone. Default: the shipped weights. */
  model?: ModelWeights | null;
}

const SHIPPED_MODEL = shippedWeights as ModelWeights;

/**
 * How sure the fallback model must be before it overrides "no rule matched". From leave-one-batch-out
 * cross-validation over its training data (`npx tsx dev/train-classifier.ts --cv`): at p >= 0.65 the left-out
 * model's non-"other" answers were right 216 times in 220 (0.98), it found 58% of the non-"other" messages,
 * and took 3 of 107 true "other" messages away; at 0.5 it finds 69% but is right 0.97 and takes 5 away. The
 * higher bar because short messages with few telling words reach 0.64 on the strength of one header or a
 * greeting: a CI notification with List-Unsubscribe (promotion), a colleague's two-line reply (support), cases
 * the unit tests hold to "other" and of which real mail has more than the labelled sets.
 */
export const MODEL_MIN_PROBABILITY = 0.65;

type Family = { name: string; re: RegExp };

const fam = (name: string, re: RegExp): Family => ({ name, re });

/**
 * A regular expression whose \b also sees accented and non-Latin letters. JavaScript's \b knows only
 * [A-Za-z0-9_], so /\bcafé\b/ never matches "café" and /\bàs \d/ never matches "às 3"; the vocabularies of
 * the person-to-person rules (6 calendar/scheduling, 7 support/problem report) are built with it.
 * Where the pattern itself makes one side of a \b a letter (the next token surely consumes a letter, or
 * the previous one surely did), only the other side is tested: half the lookarounds at every position
 * the engine tries, and the same matches.
 */
const LETTER = '[\\p{L}\\p{N}_]';
const BOUNDARY = `(?:(?<=${LETTER})(?!${LETTER})|(?<!${LETTER})(?=${LETTER}))`;
const WORD_START = `(?<!${LETTER})`;
const WORD_END = `(?!${LETTER})`;
function words(re: RegExp): RegExp {
  const tokens = tokenize(re.source);
  const source = tokens
    .map((token, i) => {
      if (token.text !== '\\b') return token.text;
      if (startsWithLetter(tokens, i + 1)) return WORD_START;
      if (endsWithLetter(tokens, i - 1)) return WORD_END;
      return BOUNDARY;
    })
    .join('');
  return new RegExp(source, `${re.flags}u`);
}

/** One expression matching where either does (both in Unicode mode). */
function joined(a: RegExp, b: RegExp): RegExp {
  return new RegExp(`(?:${a.source})|(?:${b.source})`, [...new Set([...a.flags, ...b.flags])].join(''));
}

type Token = { text: string; kind: 'atom' | 'open' | 'close' | 'alt' | 'quantifier' | 'other'; partner?: number };

/** The source's tokens; an `open` and its `close` name each other (`partner`). */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const open: number[] = [];
  for (let i = 0; i < source.length; ) {
    const c = source[i]!;
    let text = c;
    let kind: Token['kind'] = 'atom';
    if (c === '\\') {
      const property = /^\\[pP]\{[^}]*\}/.exec(source.slice(i));
      text = property ? property[0] : source.slice(i, i + 2);
      if (text === '\\b' || text === '\\B') kind = 'other';
    } else if (c === '[') {
      let j = i + 1;
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1;
      text = source.slice(i, j + 1);
    } else if (c === '(') {
      text = /^\(\?(?:[:=!]|<[=!]|<[^>]*>)?/.exec(source.slice(i))?.[0] ?? '(';
      kind = 'open';
    } else if (c === ')') kind = 'close';
    else if (c === '|') kind = 'alt';
    else if ('?*+{'.includes(c)) {
      text = c === '{' ? source.slice(i, source.indexOf('}', i) + 1) : c;
      if (source[i + text.length] === '?') text += '?';
      kind = 'quantifier';
    } else if ('^$.'.includes(c)) kind = 'other';
    if (kind === 'open') open.push(tokens.length);
    if (kind === 'close') {
      const partner = open.pop()!;
      tokens[partner]!.partner = tokens.length;
      tokens.push({ text, kind, partner });
    } else tokens.push({ text, kind });
    i += text.length;
  }
  return tokens;
}

const WORD_ATOM = /^(?:[\p{L}\p{N}_]|\\[dw])$/u;

/** Whether a quantifier lets its atom match nothing. */
const optional = (token: Token | undefined) => token?.kind === 'quantifier' && /^(?:[?*]|\{0[,}])/.test(token.text);

/** Whether the token at `i` surely consumes a letter first (a letter, \d, \w, or a group of such alternatives). */
function startsWithLetter(tokens: Token[], i: number): boolean {
  const token = tokens[i];
  if (!token) return false;
  if (token.kind === 'atom') return WORD_ATOM.test(token.text) && !optional(tokens[i + 1]);
  if (token.kind !== 'open' || !['(', '(?:'].includes(token.text) || optional(tokens[token.partner! + 1])) return false;
  return alternatives(tokens, i, token.partner!).every((first) => startsWithLetter(tokens, first[0]!));
}

/** Whether the token at `i` (the last before a \b) surely consumed a letter last. */
function endsWithLetter(tokens: Token[], i: number): boolean {
  let token = tokens[i];
  if (token?.kind === 'quantifier') {
    if (optional(token)) return false;
    i -= 1;
    token = tokens[i];
  }
  if (!token) return false;
  if (token.kind === 'atom') return WORD_ATOM.test(token.text);
  if (token.kind !== 'close') return false;
  const opening = tokens[token.partner!]!;
  if (!['(', '(?:'].includes(opening.text)) return false;
  return alternatives(tokens, token.partner!, i).every((alternative) => endsWithLetter(tokens, alternative.at(-1)!));
}

/** The token indices of each top-level alternative of the group between `open` and `close`. */
function alternatives(tokens: Token[], open: number, close: number): number[][] {
  const result: number[][] = [[]];
  for (let i = open + 1; i < close; i += 1) {
    const token = tokens[i]!;
    if (token.kind === 'alt') result.push([]);
    else {
      result.at(-1)!.push(i);
      if (token.kind === 'open') {
        for (let j = i + 1; j <= token.partner!; j += 1) result.at(-1)!.push(j);
        i = token.partner!;
      }
    }
  }
  return result.some((alternative) => alternative.length === 0) ? [[-1]] : result;
}

// ---------------------------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------------------------

const SECURITY: Family[] = [
  fam('new sign-in', /yeni (?:bir )?cihaz(?:dan)? giriş|hesabınıza giriş yapıldı|(?:cep )?telefon(?:u)? numaran[ıi]z (?:güncellendi|değiştirildi)|numarası [^\n]{0,40}değiştiril|e-posta adresiniz (?:güncellendi|değiştirildi)|doğrulama kodu|\bnew (?:sign[- ]?in|log[- ]?in|login|device sign[- ]?in)\b|\bnowe logowanie|\blogowanie z nowego|\bzalogowano si|\bny inloggning\b|\bnytt? (?:login|log ind|innlogging)\b|\bnové přihlášení|\bnouvelle connexion\b|\bneue anmeldung\b|\bnuevo inicio de sesi[oó]n\b|\bnuovo accesso\b|\bnovo (?:login|acesso)\b|\bconnexion (?:à votre compte )?(?:depuis|sur|avec) (?:un )?(?:nouvel|nouveau|autre)\b|\b(?:nous avons|on a) (?:détecté|remarqué) une (?:nouvelle )?connexion\b|\bs'est connecté à votre compte\b|\b(?:anmeldung|angemeldet) (?:bei (?:ihrem|deinem) konto )?(?:von|auf|mit|über) (?:einem )?neuen\b|\bse ha iniciado sesi[oó]n\b|\bdetectamos un (?:nuevo )?inicio de sesi[oó]n\b|\bnuevo acceso a (?:tu|su) cuenta\b|\bdetectamos um (?:novo )?(?:login|acesso)\b|\bè stato effettuato (?:un )?(?:nuovo )?accesso\b|\bnieuwe (?:aanmelding|login|inlog)\b|\ber is (?:ingelogd|aangemeld) op (?:je|uw) account\b|(?:新しい|新規)(?:ログイン|サインイン)|(?:ログイン|サインイン)(?:がありました|を検出|が検出|されました|通知|のお知らせ|アラート)|新しい(?:端末|デバイス|ブラウザ)(?:から|で)の?(?:ログイン|サインイン|アクセス)|新(?:设备|設備)(?:登录|登錄)|(?:登录|登錄)(?:提醒|通知)|(?:异地|異地)(?:登录|登錄)|新的(?:登录|登錄)/),
  fam('sign-in attempt', /\b(?:sign[- ]?in|log[- ]?in|login) attempt\b|\bused to sign in\b|\bintento de inicio de sesi[oó]n\b|\btentative de connexion\b|\banmeldeversuch\b/),
  fam('password reset/change', /\bpassword (?:reset|recovery|change|was changed|has been changed|changed)\b|\breset(?:u)? hasła|\bzresetowani\w* hasła|\bnowe hasło\b|\bodzyskiwanie hasła|(?:şifre|parola)(?:niz|nız|n)? (?:değiştirildi|sıfırlandı|güncellendi|sıfırlama)|\bşifre sıfırlama|\bzmie[nń] has|\bzmiana has|\bbyt (?:ditt )?lösenord\b|\blösenordet (?:har )?ändrats\b|\bskift (?:din )?adgangskode\b|\bendre passord\b|\bzměňte heslo\b|\bpassword (?:will )?expires?\b|\bpassword expir(?:y|ation|es|ing)\b|\bwachtwoord (?:wijzigen|gewijzigd|opnieuw instellen|herstellen)\b|\b(?:wijzig|herstel) (?:dan )?(?:direct )?(?:je|uw) wachtwoord\b|\bsenha (?:alterada|redefinida)\b|\b(?:redefinir|alterar) (?:a )?(?:sua )?senha\b|\b(?:reset|change|update) (?:your )?(?:\w+ )?password\b|\bmot de passe (?:a été )?(?:modifié|changé|réinitialisé)|\b(?:modifiez|réinitialisez|changez) (?:votre|immédiatement votre) mot de passe\b|\bpasswort (?:wurde )?(?:geändert|zurückgesetzt)|\bpasswort (?:ändern|zurücksetzen)\b|\b(?:cambi|restablec)\w* (?:tu |su )?contraseña\b|\bcontraseña (?:cambiada|restablecida)\b|\breimposta(?:re)? (?:la )?password\b|パスワード(?:が|は|を|の)?(?:変更|再設定|リセット)(?:され|しました|が完了|完了|のお知らせ|のご案内|のリクエスト|の手続き|用)|パスワードを(?:お)?忘れ|密[码碼](?:已|已经|已經)?(?:被)?(?:更改|修改|重置|重設|变更|變更)|(?:重置|重設)(?:您的|你的)?密[码碼]|(?:修改|更改)密[码碼](?:成功|通知|提醒)|忘[记記]密[码碼]/),
  fam('verification code', /\bcode de connexion\b|\bc[oó]digo de (?:inicio de sesi[oó]n|login|entrada)\b|\banmeldecode\b|\bne le (?:communiquez|partagez|donnez) à personne\b|\bno lo compartas\b|\bnon condividerlo\b|\bnão o partilhe\b|\bgeben sie (?:ihn|diesen code) nicht weiter\b|\bdeel deze code niet\b|\b(?:verification|security|confirmation|login|sign-in|one[- ]time|authentication|access) code\b|\bkod (?:weryfikacyjny|sms|jednorazowy|potwierdzaj|do potwierdzenia)|\bverifieringskod\b|\bbekræftelseskode\b|\bbekreftelseskode\b|\bověřovací kód\b|\bone[- ]time pass(?:word|code)\b|\botp\b|\bcode de (?:vérification|sécurité|confirmation)\b|\b(?:bestätigungs|sicherheits|verifizierungs|anmelde)code\b|\bc[oó]digo de (?:verificaci[oó]n|seguridad|confirmaci[oó]n|verifica[cç][aã]o)\b|\bcodice di (?:verifica|sicurezza|accesso)\b|\bc[oó]digo de (?:acceso|acesso)\b|\bcode d'accès\b|\bzugangscode\b|\b(?:verificatie|beveiligings|inlog)code\b|\b(?:do not|don't|never) share (?:this|the|your) code\b|\bno (?:lo|la) compartas con nadie\b|\bnão compartilhe (?:o|este) código\b|認証コード|確認コード|検証コード|セキュリティコード|ワンタイム(?:パスワード|コード)|ログインコード|[验驗][证證][码碼]|校验码|动态码|安全码|确认码/),
  fam('password changed (any language)', /\b(?:password|passwort|kennwort|mot de passe|contrase[nñ]a|senha|palavra-passe|wachtwoord|has[lł]o)\b[^\n]{0,30}?\b(?:caduca|expira|expire|läuft|vence|verloopt|scade|wygasa)\b|\b(?:password|passwort|kennwort|mot de passe|contrase[nñ]a|senha|palavra-passe|wachtwoord|has[lł]o|lösenord|adgangskode|passord)\b[^\n]{0,40}?\b(?:changed|reset|updated|geändert|zurückgesetzt|modifi[ée]e?|chang[ée]e?|réinitialisée?|cambiad[ao]|restablecid[ao]|modificad[ao]|alterad[ao]|redefinid[ao]|reposta|modificata|cambiata|reimpostata|gewijzigd|opnieuw ingesteld|zmienione|ändrats|ændret|endret)\b|\b(?:lösenord(?:et)?|adgangskode(?:n)?|passord(?:et)?)\b[^\n]{0,40}?(?:ändrats|ändrades|återställts|återställdes|ændret|endret|nulstillet|tilbakestilt)|\b(?:forgot(?:ten)? (?:your )?password|password (?:assistance|help|hint)|passwort vergessen|mot de passe oublié|olvidaste (?:tu )?contraseña|esqueceu (?:a )?(?:sua )?(?:senha|palavra-passe)|password dimenticata|wachtwoord vergeten)\b/),
  fam('identity check', /\bverify (?:your|that it'?s|it'?s really) (?:identity|you)\b|\bconfirm (?:your identity|it'?s (?:really )?you)\b|\bvérifier votre identité\b|\bconfirmer votre identité\b|\bidentität (?:zu )?(?:bestätigen|überprüfen|verifizieren)\b|\bverificar (?:tu|su|a sua|sua) identidad[e]?\b|\bconfirmar (?:tu|su|a sua|sua) identidad[e]?\b|\bverificare la (?:tua|sua) identità\b|\b(?:je|uw) identiteit (?:te )?(?:verifiëren|bevestigen)\b|本人確認|身份[验驗][证證]|[验驗][证證](?:您|你)的身份/),
  fam('code given', /\b(?:code|código|codice|kode|kod|pin|otp|passcode)\b(?: \w+){0,2} (?:is|ist|est|es|é|è|er|är|jest)?\s*:?\s*(?:\d{4,8}|\d{3} \d{3})\b(?![.,/-]\d)|^\s*\d{3}[ -]?\d{3}\s*$/m),
  fam('credentials', /\b(?:api|access|secret|personal access|deploy) (?:keys?|tokens?)\b[^\n]{0,60}?\b(?:expires?|expiring|expired|will expire|about to expire)\b|\b(?:keys?|tokens?|secrets?|credentials|passwords?)\b (?:was |were |got |has been |have been )?(?:leaked|exposed|compromised|printed|committed|published)\b|\bleaked (?:\w+ )?(?:tokens?|keys?|secrets?|credentials|passwords?)\b|\b(?:rotate|revoke|regenerate|reset|renew) (?:\w+ ){0,3}(?:keys?|credentials|tokens?|secrets?|certificates?)\b|\b(?:access|api|ssh|gpg|signing|deploy) keys? (?:was |were |has been |have been )?(?:added|created|removed|deleted|revoked|exposed|leaked)\b|\b(?:personal )?access token (?:was |has been )?(?:added|created|revoked|exposed)\b|\b(?:yubikey|security keys?|hardware (?:security )?keys?|passkeys?|single sign-on|identity provider)\b|\b(?:lost or stolen|was stolen|were stolen|been stolen)\b|\b(?:gestohlen|volé|robad[oa]|roubad[oa]|rubat[oa]|gestolen)\b/),
  fam('new device', /\bnew device\b[^\n]{0,40}?\b(?:registered|added|signed in|is using|was used|logged in)\b|\bneues gerät\b|\bnouvel appareil\b|\bnuevo dispositivo\b|\bnovo dispositivo\b|\bnuovo dispositivo\b|\bnieuw apparaat\b|\bnovo (?:telemóvel|celular|telefone|aparelho)\b|\bnuevo (?:móvil|teléfono|celular)\b|\bnouveau (?:téléphone|mobile|smartphone)\b|\bneue(?:s|n)? (?:handy|smartphone|telefon)\b|\bnuovo (?:telefono|cellulare|smartphone)\b|\bnieuwe (?:telefoon|smartphone)\b|\bsign(?:ed)? out of all (?:devices|sessions)\b/),
  fam('lost device', /\b(?:lost|stolen|loss|theft|diefstal|verlies|perte|vol|pérdida|robo|perda|roubo|smarrimento|furto|verlust|diebstahl)\b (?:of |van |de |des |du |di |eines? |d'un |d'une )?(?:an? |your |uw |je |een |un |una |um |uma |le |la |il )?(?:laptop|phone|device|telefoon|apparaat|ordinateur|téléphone|portable|portátil|móvil|telemóvel|telefone|cellulare|portatile|handy|gerät|smartphone)s?\b|\bremote(?:ly)? wip(?:e|ed)\b|\bwipe (?:it|the device) remotely\b|\bop afstand (?:te )?wissen\b|\beffacer à distance\b|\bborrar (?:de forma )?remota\w*\b|\bapagar remotamente\b|\bcancellare da remoto\b|\baus der ferne löschen\b|\bfernlöschung\b/),
  fam('never asks', /\b(?:will never|never) ask (?:you )?(?:for |to \w+ )?(?:your )?(?:password|pin|codes?|credentials|card details)\b|\bnon ti chieder[àa] mai\b|\bnon le chieder[àa] mai\b|\bne vous demandera jamais\b|\bnunca (?:te|le|lhe) (?:pedir[áa]|solicitar[áa])\b|\bwird sie (?:niemals|nie) (?:nach|auffordern)\b|\bzal (?:je|u) nooit (?:vragen|om)\b/),
  fam('push approval', /\b(?:approve|deny|accept|reject|tap) (?:the |a |any |an |those |these )?(?:unexpected |unknown )?(?:sign-in |login |log-in |mfa |2fa |push |okta |duo )?(?:prompts?|push(?:es| notifications?)|verification requests?)\b|\b(?:sign-in|login|mfa|push) prompts?\b|\bmfa fatigue\b|\bpush bombing\b/),
  fam('too many attempts', /\btoo many (?:failed |incorrect |wrong )?(?:sign-in |login )?attempts\b|\b(?:wrong|incorrect|invalid) (?:password|pin|pincode|passcode) (?:was )?entered\b|\btrop de tentatives\b|\bdemasiados intentos\b|\bzu viele (?:fehl)?versuche\b|\btroppi tentativi\b|\bmuitas tentativas\b|\bverkeerde (?:pincode|wachtwoord|inlogcode)\b|\bfalsche(?:s|n)? (?:pin|passwort|kennwort)\b/),
  fam('2fa', /\bstrong (?:customer )?authentication\b|\bautentica[cç][aã]o forte\b|\bauthentification forte\b|\bstarke kundenauthentifizierung\b|\bautenticaci[oó]n reforzada\b|\bautenticazione forte\b|\bsterke authenticatie\b|\b(?:2-step|two-step|2-factor|two-factor|multi-factor) (?:verification|authentication|sign-?in|login)\b|\bmulti-?factor\b|\bokta verify\b|\bauthenticator app\b|\b2fa\b|\bmfa\b|\btweestapsverificatie\b|\bautentica[cç][aã]o de dois fatores\b|\bverifica in due passaggi\b|\bzwei-faktor|\bverificaci[oó]n en dos pasos\b|\bdouble authentification\b|\bautenticaci[oó]n de dos factores\b|二段階認証|2段階認証|二要素認証|2要素認証|多要素認証|双重验证|雙重驗證|两步验证|兩步驗證|二次验证|双因素|雙因素/),
  fam('suspicious activity', /\b(?:suspicious|unusual|unrecognized|unexpected) (?:\w+ ){0,2}?(?:activity|sign[- ]?in|log[- ]?in|login|device|requests|access)\b|\b(?:tentatives?|transactions?|paiements?|opérations?|intentos?|transacciones|operaciones|tentativas?|transa[cç][õo]es|opera[cç][õo]es|tentativi|transazioni|operazioni|versuche|transaktionen|zahlungen|pogingen|transacties|betalingen)\b[^\n]{0,30}?\b(?:suspect\w*|frauduleu\w*|sospechos\w*|fraudulent\w*|suspeit\w*|sospett\w*|verdächtig\w*|betrügerisch\w*|verdacht\w*|frauduleuze)\b|\bactivité (?:suspecte|inhabituelle)\b|\bverdächtige aktivität\b|\bungewöhnliche aktivität\b|\bactividad (?:sospechosa|inusual)\b|\battività sospetta\b|\bverdachte activiteit\b|\batividade suspeita\b|\bsomething unusual about (?:a |your )?(?:recent )?sign-?in\b|\bconnexion (?:suspecte|inhabituelle)\b|\b(?:verdächtige|ungewöhnliche) anmeldung\b|\binicio de sesi[oó]n (?:sospechoso|inusual)\b|\bacesso (?:suspeito|incomum)\b|\baccesso (?:sospetto|insolito)\b|\bverdachte (?:aanmelding|inlogpoging)\b|不審な(?:ログイン|サインイン|アクセス|アクティビティ|操作)|不正(?:ログイン|アクセス|利用)|(?:异常|異常|可疑)(?:登录|登錄|活动|活動|访问|訪問)/),
  fam('security alert', /\bsecurity (?:alert|notice|warning|notification)\b|\balerte de sécurité\b|\bsicherheits(?:hinweis|warnung)\b|\balerta de seguridad\b|\bavviso di sicurezza\b|\bbeveiligings(?:melding|waarschuwing)\b|\balerta de segurança\b|\b(?:notification|avertissement) de sécurité\b|\baviso de seguridad\b|\baviso de segurança\b|セキュリティ(?:警告|アラート|通知)|(?:账号|账户|帳號|帳戶)安全(?:提醒|通知|警告)|安全警告/),
  fam('threat', /\bphishing\b|\bimpersonat(?:ing|es|ed|ion)\b|\bgift ?card (?:scam|fraud)\b|\bceo fraud\b|\bmalware\b|\bransomware\b|\btrojan\b|\bspyware\b|\bkeylogger\b|\bvirus (?:alert|detected|found)\b|\binfected\b|\bcompromised\b|\bvulnerabilit(?:y|ies)\b|\bcve-\d{4}-\d+\b|\bsecurity (?:patch|advisory|incident|breach|update|fix|hole|flaw)\b|\b(?:vulnerabilidad|vulnerabilità|vulnerabilidade|kwetsbaarheid|sicherheitslücke|faille)\b|\bparche\b|\b(?:being|actively|ya se está|wird bereits|est déjà|viene già|já está a ser|wordt al) (?:exploited|explotando|ausgenutzt|exploitée|sfruttata|explorada|misbruikt)\b|\b(?:mise à jour|correctif|faille) de sécurité\b|\bfaille (?:critique|de sécurité)\b|\bsicherheits(?:update|lücke|patch|vorfall)\b|\b(?:actualizaci[oó]n|parche|fallo|brecha) de seguridad\b|\b(?:aggiornamento|patch|falla) di sicurezza\b|\b(?:atualiza[cç][aã]o|falha|brecha) de segurança\b|\bbeveiligings(?:update|lek|patch|incident)\b|\b(?:fake|fraudulent|spoofed|impersonating|scam) (?:e-?mails?|messages?|invoices?|texts?|calls?|links?|websites?|pages?)\b|\bimpersonat\w*\b|\b(?:truffa|truffe|estafas?|arnaques?|oplichting|golpes?|scams?|phishing-?mails?)\b|\b(?:siti|sites?|sitios|páginas|webseiten|websites?|pagine) (?:web )?(?:falsi|faux|falsos|falsas|gefälschte|fake|nep)\b|\b(?:imitano|imitent|imitan|imitieren|imitam|pretend(?:ing)? to be|se font passer pour|se hacen pasar por|si spacciano per|fingem ser|doen zich voor als|geben sich als)\b|\bgefälscht\w*\b|\b(?:do not|don't|never) click (?:on )?(?:the |any |these |such )?(?:links?|attachments?)\b|\bklicken sie (?:nicht|keinesfalls|auf keinen fall) auf\b|\bne cliquez (?:pas|jamais) sur\b|\bno hagas clic en\b|\bno haga clic en\b|\bnon cliccare (?:su|sui)\b|\bnão clique (?:em|nos?)\b|\bklik niet op\b|\b(?:correos|mensajes|e-?mails) falsos\b|\bsuplant\w+\b|\bfaux (?:e-?mails|courriels|messages)\b|\busurp\w+ (?:d'identité|l'identité)\b|\bgefälschte (?:e-?mails|nachrichten|rechnungen)\b|\b(?:e-?mail|messaggi) (?:falsi|fraudolenti)\b|\bvalse (?:e-?mails|berichten|facturen)\b|\b(?:son|es|sont|c'est|is|are|sind) (?:un |une |a |an |)(?:fraude|fraud|scam|estafa|arnaque|escroquerie|betrug|truffa|golpe|oplichting)\b|\b(?:no|não|non|nicht|niet|ne|n') (?:abr[aá]is|abras|abra|aprite|aprire|öffnen|openen|ouvrez)\b[^\n]{0,30}\b(?:adjuntos?|anexos?|allegati|anhänge|anhang|bijlagen?|pièces jointes|links?|enlaces|liens)\b|\bdata breach\b|\bendpoint (?:protection|security)\b|\b(?:was|were|been|got) (?:taken over|hacked)\b|\baccount takeover\b|\b(?:do not|don't) (?:open|click) (?:it|the (?:attachment|link)|any (?:attachments?|links?))\b|\bsuspicious (?:e-?mails?|attachments?|links?|messages?)\b|\breset your credentials\b|\bhame[cç]onnage\b|\bschwachstelle|\bvulnérabilité|\bvulnerabilidad/),
  fam('account locked or changed', /\baccount (?:has been |was |is )?(?:temporarily )?(?:locked|blocked|suspended)\b|\b(?:toegang|account|rekening|accesso|conta|acesso|cuenta|acceso|compte|accès|zugang|konto)\b[^\n]{0,40}?\b(?:geblokkeerd|gesperrt|bloccat[oa]|bloquead[oa]|bloqué|bloquée|suspendu|suspendue|sospes[oa]|suspens[oa]|suspendid[oa])\b|\bsperren sie\b[^\n]{0,40}\b(?:zugang|konto|karte)\b|\bmise en opposition\b|\b(?:card|carte|karte|tarjeta|cartão|carta|kaart)\b[^\n]{0,40}?\b(?:has been |was |a été |wurde |ha sido |foi |è stata |is )?(?:blocked|frozen|bloquée|gesperrt|bloqueada|bloqueado|bloccata|geblokkeerd)\b|\b(?:zugang|konto|account)\b.{0,40}\bgesperrt\b|\bcompte (?:a été )?(?:bloqué|verrouillé)\b|\bcuenta (?:ha sido )?bloqueada\b|\b(?:recovery|backup|secondary) (?:e-?mail|phone)(?: number| address)?\b.{0,40}\b(?:changed|added|removed|updated)\b|\b(?:e-?mail address|phone number) (?:on your account )?(?:was|has been) (?:changed|updated|removed)\b|\byour (?:account )?e-?mail(?: address)? (?:was |has been )?(?:changed|updated)\b|\be-?mail(?: address)? (?:was|has been) (?:changed|updated)\b|\be-?mail address (?:changed|updated|change)\b|\bchange of (?:your )?e-?mail address\b|\badresse (?:e-?mail|électronique|mail|courriel)\b[^\n]{0,30}?\b(?:a été )?(?:modifiée|changée|mise à jour)\b|\b(?:modification|changement)s? (?:de |d')(?:votre |ton |l')?adresse (?:e-?mail|électronique|mail|courriel)\b|\be-?mail-adresse\b[^\n]{0,30}?\b(?:geändert|aktualisiert)\b|\bänderung (?:ihrer|deiner|der) e-?mail-adresse\b|\b(?:direcci[oó]n de correo|correo electr[oó]nico)\b[^\n]{0,30}?\b(?:cambiad[oa]|modificad[oa]|actualizad[oa])\b|\bcambio de (?:tu |su )?(?:direcci[oó]n de )?correo electr[oó]nico\b|\b(?:endere[cç]o de )?e-?mail\b[^\n]{0,30}?\bfoi (?:alterado|atualizado|modificado)\b|\baltera[cç][aã]o (?:do|de) (?:seu )?(?:endere[cç]o de )?e-?mail\b|\bindirizzo (?:e-?mail|di posta(?: elettronica)?)\b[^\n]{0,30}?\b(?:modificato|cambiato|aggiornato)\b|\bmodifica (?:dell'|del tuo )?indirizzo e-?mail\b|\be-?mailadres\b[^\n]{0,30}?\b(?:gewijzigd|aangepast|veranderd|bijgewerkt)\b|\bwijziging (?:van )?(?:je|uw) e-?mailadres\b|\bnum[eé]ro de t[eé]l[eé](?:phone|fono)\b[^\n]{0,30}?\b(?:modifi[eé]|chang[eé]|cambiad[oa]|modificad[oa])\b|\btelefonnummer\b[^\n]{0,30}?\bgeändert\b|(?:メールアドレス|登録アドレス|電話番号)(?:が|の|を)?(?:変更|更新)(?:され|しました|が完了|完了|のお知らせ|のご案内|手続き)|(?:メールアドレス|電話番号)変更|アカウント(?:が|は)?(?:ロック|停止|凍結)され|(?:邮箱|郵箱|电子邮件地址|電子郵件地址|邮件地址|手机号码?|手機號碼?)(?:已|已经|已經)?(?:被)?(?:更改|修改|变更|變更|更换|更換|换绑|解绑)|(?:账号|账户|帳號|帳戶)(?:已|已经|已經)?(?:被)?(?:锁定|鎖定|冻结|凍結|停用)/),
  fam('was this you', /\bif you (?:do not|don't) recogni[sz]e (?:this|it|the)\b|\bse não reconhece\b|\bsi no reconoces\b|\bsi vous ne reconnaissez pas\b|\bse non riconosci\b|\bals je (?:dit|deze \w+) niet herkent\b|\bwenn sie (?:dies|das|diese \w+) nicht erkennen\b|\b(?:was|is) this you\b|\bjeśli to nie ty\b|\bvar det inte du\b|\bvar det ikke dig\b|\bif this (?:wasn'?t|was not) you\b|\bif you did(?:n'?t| not) (?:make this change|change your password|attempt|sign in|request (?:this|a) (?:code|password))|\bsecure your account\b|\bsomeone (?:else )?may (?:be accessing|have accessed)\b|\bsi vous n'êtes pas à l'origine\b|\bwenn sie (?:das|dies) nicht waren\b|\bwaren sie (?:das|dies) nicht\b|\bsi no (?:fuiste|has sido) tú\b|\bwas jij (?:dit|het)\b|\bnão foi você\b|\bnon sei stato tu\b|\bsi ce n'était pas vous\b|\bsi vous n'avez pas (?:effectué|demandé) (?:ce|cette)\b|\bwenn sie diese änderung nicht\b|\bsi no (?:realizaste|solicitaste) (?:este|esta)\b|\bse (?:você|voce) não (?:fez|reconhece|realizou|solicitou)\b|\bse non hai (?:effettuato|richiesto)\b|\bals je dit niet (?:zelf )?(?:was|hebt gedaan)\b|お心当たりがない|心当たりのない|身に覚えのない|身に覚えがない|ご本人による(?:操作|ログイン)でない|(?:如果|若|如)(?:这|這)?(?:不是|非)(?:您|你)本?人?的?(?:操作|登录|登錄)?|非本人操作/),
  ...MORE_SECURITY
];

const BILLING: Family[] = [
  fam('invoice', /\binvoices?\b|\brechnung\w*\b|\bfactur(?:e|a|as|es)\b|\bfattura\b|\bfatura\b|\bfaktur(?:a|an|en|y|aen)?\b|\bfactuur\b|請求/),
  fam('receipt', /\breceipts?\b|\bquittung\b|\breçu\b|\brecibo\b|\bricevuta\b|領収/),
  fam('payment', /\bpayments?\b|\bpaid\b|\bpaiement\b|\bzahlung\b|\bpago\b|\bpagamento\b|\bbetaling\b|\bbetaald\b|\bbetaalverzoek\b|\bpagad[oa]\b|\bpayé\b|\bbezahlt\b|\bpagat[oa]\b|お支払い|支払|代金/),
  fam('amount due/total', /\b(?:amount|balance|total) (?:due|paid|charged|owed)\b|\b(?:is|are) due (?:on|by|in)\b|\bamount charged\b|\b(?:order |grand )?total\s*(?::|[$€£¥]|\d|us\$|usd|eur|gbp)|\bsubtotal\b|\bmontant\b|\b\w*betrag\b|\bimporte\b|\bimporto\b|\bbelopp\b|\bbeløb\b|\bbeløp\b|\bkwota\b|\bdo zapłaty|\bčástka\b|\bvalor (?:da fatura|total)\b|\btotale\b|\bbedrag\b|合計|ご?請求(?:金)?額|ご利用金額/),
  fam('bill/statement', /\bjaarnota\b|\bjaarafrekening\b|\beindafrekening\b|\bjahresabrechnung\b|\bschlussrechnung\b|\bfacture annuelle\b|\brégularisation\b|\bliquidaci[oó]n anual\b|\bconguaglio\b|\bbilling\b|\bbollett[ae]\b|\bfactuur\b|\babrechnung\b|\bbill (?:is ready|is available|for)\b|\byour (?:\w+ )?bill\b|\b(?:billing|account) statement\b|\bstatement (?:is )?(?:ready|available)\b|\bestratto conto\b|\bkontoauszug|\brelevé de compte\b|\bextracto (?:bancario|de cuenta)\b|\bextrato (?:bancário|da conta|de conta)\b|\brekeningafschrift|\bkontoutdrag\b|\bwyci[aą]g (?:z konta|bankowy)/),
  fam('subscription renewal', /\b(?:subscription|plan|membership) (?:renews|will renew|renewal|has been renewed|(?:has been |was )?(?:cancell?ed|ended|expired))\b|\brenews (?:on|in|soon)\b|\bauto-?renew|\brenouvellement\b|\bverlängerung\b|\brenovaci[oó]n\b/),
  fam('tax', /\b(?:inkomstenbelasting|belastingaanslag|aanslag \w*belasting|einkommensteuer\w*|steuerbescheid|impôt sur le revenu|avis d'impôt|imposta sul reddito|irpf)\b|\b(?:vat|gst|sales tax) (?:return|payment|invoice|due|amount|number)\b|\btax (?:return|payment|bill|due|assessment)\b|\b(?:moms|mwst|umsatzsteuer|ust-voranmeldung|steuer(?:erklärung|bescheid|zahlung)|tva|déclaration de tva|iva|declaraci[oó]n (?:de|del) iva|btw(?:-aangifte)?|imposto|imposta|impuesto)\b/),
  fam('due date', /\bdue date\b|\bvencimento\b|\bvencimiento\b|\bscadenza\b|\bfälligkeit\w*\b|\bfällig (?:am|bis|zum)\b|\bzahlbar bis\b|\béchéance\b|\bvervaldatum\b|\bvervalt\b|\bvence (?:amanhã|hoje|mañana|hoy|em|en|el|no|dia)\b|\bvencer[aá]\b|\bscade (?:il|oggi|domani)\b/),
  fam('top-up', /\b(?:top-?up|recharge|ricarica|recarga|aufladung|guthabenaufladung|opwaardering|opgewaardeerd)\b(?: \w+){0,3} (?:successful|effettuata|realizada|efetuada|erfolgreich|réussie|effectuée|gelukt|completed?|confirmed)\b|\b(?:payment method|metodo di pagamento|método de pago|moyen de paiement|mode de paiement|zahlungsmethode|zahlungsart|forma de pagamento|método de pagamento|betaalmethode|betaalwijze)\s*:/),
  fam('pay now', /\b(?:you (?:must|need to|have to)|u moet|je moet|sie müssen|vous devez|usted debe|debe|deve|você deve) [^\n]{0,25}?\b(?:pay|betalen|zahlen|payer|pagar|pagare)\b|\bpay (?:now|online|your (?:bill|invoice)|by|before)\b|\b(?:pague|pagá|paga) (?:pelo|por|com|con|en|hasta|até|ya|ahora|online|o|a|la|tu|sua)\b|\bpagar (?:a|la|tu|sua|su) (?:fatura|factura|conta|cuenta|bolletta)\b|\bpayer (?:votre|la|en ligne)\b|\bjetzt (?:bezahlen|zahlen)\b|\b(?:betaal|betalen) (?:nu|binnen|via)\b|\boverma(?:ken|ak) (?:naar|het bedrag)\b|\bpaga(?:re)? (?:la bolletta|online|entro)\b|\bboleto\b|\bpix\b|\bc[oó]digo de barras\b|\bbankgiro\b/),
  fam('utility bill', /\b(?:conta|cuenta|factura|fatura|facture|bolletta|rechnung|nota) (?:de |da |del |di |della |d')?(?:luz|água|agua|gás|gas|electricidad|eletricidade|electricité|électricité|luce|strom|wasser|telefone|teléfono|internet|móvil|celular)\b|\b(?:sua|tu|su) conta (?:de \w+ )?(?:chegou|está disponível)\b|\b(?:electricity|water|gas|phone|internet|energy|utility) bill\b|\b(?:strom|gas|wasser)abrechnung\b|\bnota fiscal\b/),
  fam('subscription', /\b(?:price|prix|preis|precio|prezzo|preço|prijs) (?:of |de |du |des |von |del |della |do |da |van )?(?:your |votre |ihres? |tu |su |il tuo |o seu |je )?(?:\w+ )?(?:plan|membership|subscription|abonnement|abo|suscripci[oó]n|abbonamento|assinatura|lidmaatschap)\b|\b(?:next|prochaine|nächste|próxima|prossima|volgende) (?:billing|facturation|abrechnung|facturaci[oó]n|fatturazione|fatura[cç][aã]o|factuur)\b|\b(?:membership|monthly|annual) fee\b|\bmensalidade\b|\bcuota (?:mensual|anual|de socio)\b|\bmensualité\b|\bcotisation\b|\bmitgliedsbeitrag\b|\bmonatsbeitrag\b|\bquota (?:mensile|associativa)\b|\bcontributie\b|\b(?:license|licence|subscription|plan|membership|lizenz|licencia|licença|licenza|licentie|abonnement|abonnemento|assinatura|suscripci[oó]n) (?:\w+ ){0,3}(?:expires?|expiring|expired|läuft|vence|scade|verloopt|expire)\b|\brenew (?:now|today|your (?:license|licence|subscription|plan|membership))\b|\b(?:usd|eur|gbp|chf|sek|nok|dkk|pln|brl|cad|aud)\s?\d[\d.,]* (?:per|a|each) (?:month|year)\b|\bsubscription (?:is )?(?:confirmed|confirmation|started|activated)\b|\byou(?:'ve| have) (?:subscribed|upgraded) to\b|\b(?:[$€£]\s?\d[\d.,]*|\d[\d.,]*\s?(?:€|£|kr|zł)) ?(?:per|a|\/|each) ?(?:month|year|mo|yr)\b|\b(?:par mois|pro monat|al mes|al mese|per maand|por mês|por mes|monatlich|mensuel(?:le)?|mensual)\b|\brenews? (?:on )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|\d)|\bwill (?:automatically )?renew\b|\babonnement\b|\babo-?(?:verlängerung|bestätigung)\b|\bsuscripci[oó]n (?:confirmada|activada|renovada)\b|\bassinatura (?:confirmada|renovada)\b|\babbonamento\b/),
  fam('rent', /\b(?:the|your|my|monthly|this month's|(?:january|february|march|april|may|june|july|august|september|october|november|december)(?:'s)?) rent\b|\bmiete\b|\bloyer\b|\balquiler\b|\baluguel\b|\baffitto\b|\bhuur\b/),
  fam('charge', /\b(?:will be|was|been|we'?ll|we will) charged?\b|\b(?:foi|será|fue|ha sido|será|è stat[oa]|wurde|wird|a été|sera|is|wordt) (?:\w+ )?(?:debitad[oa]|cobrad[oa]|cargad[oa]|addebitat[oa]|abgebucht|prélevée?|afgeschreven|geïncasseerd)\b|\b(?:debitad[oa]|cobrad[oa]|addebitat[oa]|afgeschreven|prélevée?) (?:por|da|sur|van|de|dal|na)\b|\bdébito direto\b|\bd[eé]bito autom[aá]tico\b|\bdebited\b|\b(?:won't|will not|no longer) be charged\b|\baddebit\w*\b|\bdomiciliaci[oó]n\b|\bd[eé]bito autom[aá]tico\b|\bcharge[ds]? (?:\S+ )?to your\b|\bcard (?:ending|declined)\b|\bdirect debit\b|\bprélèvement\b|\babgebucht\b|\blastschrift\b|\bcargo\b/),
  fam('card on file', /\b(?:visa|mastercard|master card|amex|american express|discover|maestro|card|carte|karte|tarjeta|cartão|carta)\b[^\n]{0,25}?(?:ending(?: in)?|endet auf|terminant par|terminada en|final|•{2,}|\*{2,}|x{3,}|·{2,})\s*\d{4}\b/),
  fam('money transfer', /\bmoney transfer\b|\b(?:bank|wire) transfer\b|\btransfer (?:of|to|from) [$€£]|\byou sent [$€£]?\d|\byour money(?:'s| is) on (?:its|the) way\b|\bpayouts?\b|\bvirement\b|\büberweisung\b|\btransferencia\b|\btransferência\b|\bbonifico\b|\boverboeking\b/),
  fam('refund', /\brefund(?:ed|s)?\b|\b(?:je|u) krijgt [^\n]{0,20}\bterug\b|\byou(?:'ll| will)? get [^\n]{0,20}\bback\b|\berhalten sie [^\n]{0,20}\bzurück\b|\bvous serez rembours|\bremboursement\b|\berstattung\b|\breembolso\b|\brimborso\b|\bdevoluci[oó]n\b|\bestorno\b|\bterugbetaling\b|\båterbetalning\b|\bzwrot\b/),
  fam('order confirmation', /\border (?:confirmation|confirmed|receipt|is confirmed)\b|\bthank(?:s| you) for your (?:order|purchase)\b|\byour order #|\bcommande confirmée\b|\bbestellbestätigung\b|\bconfirmaci[oó]n (?:de|del) pedido\b|注文/),
  ...MORE_BILLING
];

/** Billing families that name a transaction (not just a price or a plan). */
const TRANSACTION_FAMILIES = new Set(['invoice', 'receipt', 'payment', 'amount due/total', 'charge', 'card on file', 'money transfer', 'refund', 'order confirmation', 'top-up']);

const BILLING_SUBJECT_OK = new Set(['top-up', 'invoice', 'receipt', 'payment', 'bill/statement', 'subscription renewal', 'charge', 'refund', 'order confirmation', 'amount due/total', 'money transfer', 'tax', 'due date', 'utility bill', 'subscription']);

/**
 * What makes a mail a bill rather than a mail about bills: a document, a number, terms, a card or a charge.
 * Required when a person writes (no bulk or automated signal, no billing sender), so that "how do you make
 * your invoices? I need to bill $500" stays personal while "attached is my invoice" is billing.
 */
const BILLING_INSTRUMENT =
  /\b(?:invoice|rechnung|facture|factura|fattura|fatura|receipt|order)\s*(?:#|no\.?|nr\.?|number|n°|nº|num[eé]ro|nummer)\s*:?\s*[\w-]*\d|\binv-?\d|\b(?:please find|attached is|attached (?:you'll|you will) find|enclosed|anbei|ci-joint|en pièce jointe|adjunto|em anexo|in allegato|bijgaand)\b|\b(?:amount|balance|payment) due\b|\bdue (?:date|by|on)\b|\bpayment (?:within|by|terms)\b|\bnet \d{1,2}\b|\biban\b|\bbank details\b|\bzahlbar\b|\bfällig\b|\b[ée]ch[ée]ance\b|\bvencimiento\b|\bvencimento\b|\bscadenza\b/;

const CURRENCY_AMOUNT =
  /(?:[$€£¥₹￥₩₺₽]|\bus\$|\b(?:usd|eur|gbp|chf|cad|aud|jpy|inr|sek|nok|dkk|pln|brl|mxn)\b)\s?\d[\d,.]*|\b\d[\d.,]*\s?(?:€|£|円|\b(?:usd|eur|gbp|chf|cad|aud|jpy|sek|nok|dkk|pln|brl|mxn)\b|\bkr\b|\bzł)/i;

const CALENDAR_CUES: Family[] = [
  // a general meeting convened by notice: a housing co-op's, an owners' association's, a club's
  fam('meeting convened', /(?:innkall\w*|indkald\w*|kallelse|kallar till|convoca\w*|convoqu\w*|einladung zur|laden [^\n]{0,30}(?:zur|zu der)|uitnodiging (?:voor|tot) de|notice of (?:the )?)[^\n]{0,60}?(?:generalforsamling|årsmøte|sameiermøte|årsmöte|föreningsstämma|stämma|assemblea|asamblea|junta general|junta de propietarios|assemblée|versammlung|ledenvergadering|vergadering van eigenaars|general meeting|agm\b|egm\b)/),
  fam('video meeting link', /\b(?:microsoft )?teams-(?:besprechung|vergadering)\b|\b(?:réunion|reunión|riunione|reunião) (?:de |di |do |)(?:microsoft )?teams\b|\b(?:hier klicken|klicken sie hier),? um an der besprechung teilzunehmen\b|\bcliquez ici pour rejoindre la réunion\b|\bhaga clic aquí para unirse a la reunión\b|\bfai clic qui per partecipare alla riunione\b|\bclique aqui para (?:ingressar|participar) na reunião\b|\bklik hier om deel te nemen aan de vergadering\b|\bjoin (?:with )?google meet\b|\bwebex\.com\/\S*j\.php|\bjoin (?:the |this )?webex meeting\b|\bwebex meeting\b|meet\.google\.com\/|\bjoin zoom meeting\b|zoom\.us\/[jw]\/|\bmicrosoft teams meeting\b|teams\.microsoft\.com\/l\/meetup-join|\bwebex\.com\/meet/),
  fam('meeting id', /\bmeeting id\b|\bmeeting number\b|\bmeeting-id\b|\bid de (?:la )?réunion\b|\bbesprechungs-id\b/),
  fam('invited you', /\b(?:has|have) (?:been )?invited you\b|\byou have been invited to\b|\bis inviting you to\b|\binvites you to\b|\binvites you to join\b|\bsie wurden zu folgendem termin eingeladen\b|\bhas recibido una invitaci[oó]n\b|\bvous avez été invité/),
  fam('invitation reply', /\b(?:has|have) (?:tentatively )?(?:accepted|declined) this invitation\b|\binvitation from google calendar\b|\bthis event has been (?:updated|canceled|cancelled|changed)\b|\bevent has been (?:scheduled|canceled|cancelled|rescheduled)\b|\bnew event has been scheduled\b/),
  fam('rsvp', /\brsvp\b|\byes\s*\/\s*no\s*\/\s*maybe\b|\bja\s*\/\s*nein\s*\/\s*vielleicht\b|\bs[ií]\s*\/\s*no\s*\/\s*quiz[aá]s\b|\boui\s*\/\s*non\s*\/\s*peut-être\b|\bgoing\?/),
  fam('add to calendar', /\badd to (?:your |my )?calendar\b|\bview (?:event|on google calendar)\b|\.ics\b|\bzum kalender hinzufügen\b|\bajouter (?:à|au) (?:mon |votre )?(?:agenda|calendrier)\b/),
  fam('appointment', /\b(?:your |upcoming )?appointment\b|\bmarca[cç][aã]o\b|\bsess[aã]o de \w+|\bsesión de \w+|\bséance de \w+|\bsitzung\b|\b(?:video ?|tele-?)?consultation\b|\btéléconsultation\b|\bteleconsulta\b|\bconsulta (?:médica|online|marcada)\b|\b(?:video)?sprechstunde\b|\bvisita (?:medica|specialistica)\b|\bspreekuur\b|\brendez-vous\b|\btermin\b|\bcita\b|\bafspraak\b|\bappuntamento\b|\bagendamento\b/),
  fam('scheduling poll', /\bpoll\b[^\n]{0,80}\b(?:dates?|times?|slots?)\b|\b(?:choose|pick|select|vote (?:on|for)) (?:the |your |a )?(?:dates?|times?|slots?)\b|\bfind a (?:time|date) (?:that|to meet)\b|\bdoodle\.com\/|\bwhen2meet\.com\/|\brallly\.co\//),
  fam('when/where fields', /^(?:check-in|check-out|anreise|abreise|arrival|arrivée|llegada|arrivo|chegada|aankomst|when|wann|cuándo|quand|quando|event date\/time|date\/time|date ?(?:&|and) ?time|time|datum und uhrzeit|fecha y hora|date et heure|data e ora|data e hora|datum en tijd)\s*:/m),
  fam('event type', /\bevent type\b|\binvitee\b/),
  fam('reminder of it', /\b(?:n'oubliez pas|don't forget|vergessen sie nicht|no olvide|non dimenticare|não se esqueça|vergeet niet) (?:votre|your|ihren|ihre|su|tu|il tuo|la tua|o seu|a sua|je|uw) (?:réservation|rendez-vous|reservation|appointment|booking|termin|reservierung|cita|reserva|appuntamento|prenotazione|marca[cç][aã]o|afspraak|reservering)\b|\bthis is a (?:friendly )?reminder (?:of|about) your\b|\bwe(?:'d like to)? remind you of your\b|\bnous vous rappelons votre\b|\ble (?:recordamos|ricordiamo) (?:su|la sua|il suo|l')\b|\bte recordamos tu\b|\bti ricordiamo (?:il|la|l')\b|\b(?:lembramos|lembrete d[oa]) (?:o seu|a sua|sua|seu)\b|\bwir erinnern sie an (?:ihren|ihre|ihr)\b|\bwe herinneren (?:je|u) aan (?:je|uw)\b/),
  fam('travel', /\bcheck-in (?:is |now |)(?:open|available|opens)\b|\bonline check-in\b|\bcheck in (?:now|online)\b|\b(?:o|el|le|der|il|de) check-in\b|\bboarding pass\b|\bcart[aã]o de embarque\b|\bcarte d'embarquement\b|\bbordkarte\b|\btarjeta de embarque\b|\bcarta d'imbarco\b|\binstapkaart\b/),
  fam('departure', /\b(?:flight|voo|vol|flug|vuelo|volo|vlucht) [a-z0-9]{2} ?\d{2,4}\b|\b(?:departure|partida|départ|abflug|salida|partenza|vertrek)\b[^\n]{0,30}?\d{1,2}[:h]\d{2}/),
  fam('table booked', /\b(?:booked|reserved|got) (?:us )?a table\b|\btable for \d+\b|\btisch (?:für \d+ )?(?:reserviert|gebucht)\b|\bréservé une table\b|\breserv[eé] una mesa\b|\breservei uma mesa\b|\bprenotato un tavolo\b|\btafel gereserveerd\b/),
  fam('meet up', /\b(?:we're|we are|let's|we'll|we will|shall we|wir treffen uns|on se retrouve|nos vemos|ci vediamo|encontramo-nos|we zien elkaar) (?:meet(?:ing)? (?:up )?)?(?:at|in|outside|by|on|à|a las|alle|às|om|um)\b[^\n]{0,40}?\b\d{1,2}(?:[:h.]\d{2})?\b/),
  fam('availability', /\b(?:you in|are you in|count me in|can you make it|can you come|tu viens|vienes|vieni|kommst du|kom je|vens)\?|\bdo you have (?:\d+ (?:minutes|mins)|a few minutes|a minute|some time|time) (?:tomorrow|today|later|on|this|next)\b|\b(?:i'll|i will|happy to) send (?:you |over )?(?:an|a calendar) invite\b|\bare you (?:free|around|available) (?:on |this |next )?(?:mon|tue|wed|thu|fri|sat|sun|tomorrow|tonight|today|later)|\b(?:does|would) (?:mon|tue|wed|thu|fri|sat|sun)\w* (?:at \S+ )?work for you\b|\bbist du (?:am )?(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|morgen) frei\b|\b(?:es-tu|êtes-vous) (?:libre|dispo(?:nible)?) (?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|ce soir)\b|\b(?:estás|está) (?:libre|disponible) (?:el )?(?:lunes|martes|miércoles|jueves|viernes|sábado|domingo|mañana)\b|\b(?:sei|è) liber[oa] (?:lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica|domani)\b|\b(?:estás|está) livre (?:na |no )?(?:segunda|terça|quarta|quinta|sexta|sábado|domingo|amanhã)\b|\bben je (?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|morgen) vrij\b/),
  fam('entry', /\b(?:show|present|presenta|mostra|muestra|présentez|zeigen sie|toon|apresente) (?:\w+ ){0,3}?(?:qr(?: code)?|e-?tickets?|tickets?|biglietti|entradas|billets?|ingressos)\b|\b(?:at the (?:entrance|door)|all'ingresso|à l'entrée|en la entrada|am einlass|bij de ingang|na entrada)\b/),
  fam('takes place', /\bsi terranno\b|\bse (?:celebrar[áa]n?|realizar[áa]n?)\b|\bauront lieu\b|\bfinden [^\n]{0,40}statt\b|\bprenotare il (?:vostro|tuo|suo) (?:turno|posto)\b|\b(?:will take place|takes place|aura lieu|a lieu le|tendrá lugar|avrà luogo|si terrà|terá lugar|vindt [^\n]{0,30}plaats|findet [^\n]{0,40}statt)\b|\bconfirm (?:your )?(?:attendance|presence)\b|\bconfirmer votre présence\b|\bconfirmar (?:tu|su|a sua|sua) (?:asistencia|presença)\b|\bbestätigen sie (?:ihre )?teilnahme\b|\bconfermare la (?:tua|sua) presenza\b|\b(?:je|uw) aanwezigheid (?:te )?bevestigen\b/),
  fam('event tickets', /\b(?:your|os seus|as suas|vos|tus|i tuoi|ihre|je|uw) (?:e-?)?(?:tickets|bilhetes|billets|entradas|biglietti|karten|kaartjes|ingressos)\b|\byour (?:e-?)?tickets? (?:for|to)\b|\byou(?:'re| are) going to\b|\b(?:vos|tes) billets? pour\b|\b(?:ihre|deine) tickets? für\b|\btus entradas para\b|\bsus entradas para\b|\bi (?:tuoi|suoi) biglietti per\b|\bseus ingressos para\b|\bje (?:tickets|kaartjes) voor\b/),
  fam('reschedule', /\b(?:can|could|shall|should) we (?:move|push|reschedule|shift|do|have|make) (?:our|the|it|this|that|tomorrow's|today's)\b[^\n]{0,40}?\b(?:to|on|at|until) (?:mon|tue|wed|thu|fri|sat|sun|today|tomorrow|next|\d)|\breschedul(?:e|ing) (?:our|the|my|your|it|this)\b|\b(?:können|könnten) wir (?:den|unseren|das) \w+ (?:auf|verschieben)|\bverschieben wir\b|\bon peut (?:décaler|déplacer)\b|\bpodemos (?:mover|cambiar|pasar|remarcar|adiar) (?:la|a|nuestra|nossa)\b|\bpossiamo spostare\b|\bkunnen we (?:de|onze) \w+ verzetten\b/),
  fam('booking confirmed', /\b(?:buchungs|reservierungs)bestätigung\b|\bbooking confirmation\b|\bconfirmation de (?:votre )?réservation\b|\bconfirmaci[oó]n de (?:tu |su )?reserva\b|\bconferma (?:di|della) prenotazione\b|\bconfirma[cç][aã]o (?:de|da) reserva\b|\bboekingsbevestiging\b|\b(?:marca[cç][aã]o|sess[aã]o|consulta) (?:foi |está )?confirmad[ao]\b|\b(?:est[aá]|foi|fue|ha sido) (?:marcad[ao]|agendad[ao]|programad[ao]|reservad[ao]) para\b|\b(?:is|has been) (?:booked|scheduled|set) for\b|\b(?:des|re)marcar\b|\b(?:appointment|reservation|booking|table|interview|visit|session|consultation)\b[^\n]{0,40}?\b(?:is|has been|was) (?:confirmed|booked|scheduled|rescheduled)\b|\b(?:confirmed|booked|scheduled|rescheduled) for (?:mon|tue|wed|thu|fri|sat|sun|today|tomorrow|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|\d)|\byour table is (?:booked|reserved|confirmed)\b|\bparty of \d+\b|\bterminbestätigung\b|\b(?:bestätigen|bestätigt) (?:wir )?(?:ihren|deinen|den|ihr|dein)? ?(?:termin|reservierung)\b|\b(?:termin|reservierung) (?:ist |wurde )?bestätigt\b|\b(?:rendez-vous|réservation|rdv) (?:est |a été )?confirmée?\b|\bconfirmation de (?:votre )?(?:rendez-vous|réservation)\b|\b(?:cita|reserva) (?:está |ha sido )?confirmada\b|\bconfirmaci[oó]n de (?:tu |su )?(?:cita|reserva)\b|\b(?:appuntamento|prenotazione) (?:è stat[oa] )?confermat[oa]\b|\bconferma (?:dell'|della )?(?:appuntamento|prenotazione)\b|\b(?:agendamento|consulta|reserva) (?:foi )?confirmad[oa]\b|\b(?:afspraak|reservering) (?:is )?bevestigd\b|\bbevestiging van (?:je|uw) (?:afspraak|reservering)\b|\b(?:de|der|du|la|tu|ihr|your|uw|je|sua|tua) (?:reuni[oó]n|réunion|besprechung|meeting|riunione|reunião|vergadering|call) (?:[^\n]{0,20} )?(?:a las|à|um|at|alle|às|om) \d{1,2}[:h.]?\d{0,2}/),
  ...MORE_CALENDAR_CUES
];

const CALENDAR_PREFIX =
  /^(?:(?:updated )?invitation(?: with note)?|invitation updated|updated event|new event|event (?:canceled|cancelled|updated)|cancell?ed(?: event)?|(?:tentatively )?accepted|declined|tentative|notification|reminder|einladung|aktualisierte einladung|angenommen|abgelehnt|abgesagt|mit vorbehalt angenommen|invitation mise à jour|accepté|refusé|annulé|invitación(?: actualizada)?|aceptado|rechazado|cancelado|invito|invito aggiornato|accettato|rifiutato|convite|rappel|erinnerung|recordatorio|promemoria|lembrete|herinnering|uitnodiging|bijgewerkte uitnodiging|geaccepteerd|afgewezen|geannuleerd|inbjudan|zaproszenie)\s*:/i;

const SUBJECT_AT_DATE = /\s@\s.*\d/;

const TIME_CUE =
  /\b\d{1,2}(?::\d{2})?\s?(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\b\d{1,2}h\d{0,2}\b|\b\d{1,2}(?:[.:]\d{2})? ?uhr\b|\b(?:alle ore|às|a las|om|kl\.?|klockan|klokken) \d{1,2}(?:[.:h]\d{2})?\b|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,? (?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;

const EVENT_WORD = /\b(?:generalforsamling|assemblea|asamblea|assemblée|\w*versammlung|ledenvergadering|general meeting|colloqui\w*|réservation|hike|bilhetes|tickets|biglietti|entradas|billets|ingressos|kaartjes|buchung\w*|reservierung\w*|boeking\w*|prenotazion\w*|séminaire|seminar|seminario|workshop|atelier|offsite|off-site|conference|conférence|konferenz|kongress|congreso|convegno|evento|événement|veranstaltung|invite|invitation|invited|meeting|appointment|event|call|1:1|one-on-one|1-on-1|catch-up|stand-?up|interview|reservation|booking|table for|einladung|termin\w*|besprechung|vorstellungsgespräch|reservierung|réunion|rendez-vous|entretien|réservation|invitaci[oó]n|reuni[oó]n|cita|entrevista|reserva|reunião|agendamento|riunione|appuntamento|colloquio|prenotazione|afspraak|vergadering|sollicitatiegesprek|reservering)\b|\w+termin\b/i;

/**
 * Person-to-person scheduling without an invite (rule 6, last clause): "can we move our call to Thursday?",
 * "drinks Friday at 6?", "Können wir unser Meeting auf Donnerstag verschieben?", "打ち合わせの日程を変更させてください".
 * One sentence (or the subject) must name a meeting and either ask to change it (a change verb with a question
 * or a request: "can we", "need to", "on peut", "させてください") or propose a specific time for it (a day or an
 * hour, with a question or a proposal). A vague time does not count: "a quick chat next week?" ends a
 * recruiter's pitch, whose purpose is the job, not the chat.
 */
const MEETING_WORD = joined(
  words(/\b(?:meetings?|meet(?:-?up)?|(?<!\b(?:i|you|we|they|he|she|to|will|'ll|please|pls|can|could|would|should|may|might|must|not|and|just|also|then) )\bcall(?! (?:me|you|us|him|her|them|back|it)\b)\b|chat|catch[- ]?up|coffee|lunch|dinner|drinks?|breakfast|brunch|beers?|1:1|1-1|one-on-one|1-on-1|(?:quick|short|weekly|daily|our) sync|stand-?up|kick-?off|interview|appointment|get-together|reschedul\w*|termin|telefontermin|gesprächstermin|besprechung|(?:ein|das|unser|zum|kurzes?) treffen|treffen wir uns|uns (?:\w+ )?treffen|telefonat|telefonieren|gespräch|jour fixe|mittagessen|abendessen|kaffee|frühstück|réunion|rendez-vous|rdv|appel|visio|(?:notre|un) point|faire (?:un|le) point|café|déjeuner|dîner|apéro|entretien|se voir|se retrouver|reuni[oó]n|llamada|videollamada|cita|comida|almuerzo|cena|quedada|entrevista|vernos|reunião|chamada|liga[cç][aã]o|videochamada|encontro|almo[cç]o|jantar|reagendar|remarcar|reprogramar|riunione|chiamata|videochiamata|incontro|appuntamento|pranzo|caffè|aperitivo|colloquio|sentirci|vederci|vergadering|afspraak|belafspraak|overleg|gesprek|borrel|etentje|koffie|afspreken|lunchen|almorzar|cenar|almoçar|pranzare|cenamos|comemos|almorzamos|desayunamos|jantamos|almoçamos|ceniamo|pranziamo|dînons|déjeunons|essen wir|lunchen we|eten we)\b|打ち?合わ?せ|会議|ミーティング|面談|面接|商談|日程|アポ|ランチ|飲み会|会议|會議|开个?(?:线上|視頻|视频|电话|電話|短)?会|開個?(?:線上|視頻|電話|短)?會|会面|會面|见面|見面|面谈|面談|面试|面試|通话|通話|电话会议|電話會議|视频会议|視頻會議|吃饭|吃飯|午饭|晚饭|喝咖啡|碰个?面|改期/),
  MORE_MEETING_WORD,
);

/** Changing a meeting: the verb, in the forms that ask or announce it (not the participle of a notice). */
const MEETING_CHANGE = joined(
  words(/\b(?:move|moving|push|pushing|bump|shift|reschedul\w*|postpone|cancel|call off|swap|rearrange|can'?t make|verschieben|verlegen|absagen|ausfallen lassen|vorziehen|décaler|déplacer|reporter|repousser|annuler|avancer|mover|cambiar|pasar|aplazar|posponer|cancelar|retrasar|adelantar|reprogramar|mudar|adiar|remarcar|desmarcar|reagendar|antecipar|spostare|rimandare|posticipare|anticipare|annullare|disdire|verzetten|verplaatsen|afzeggen|annuleren|uitstellen|verschuiven|vervroegen)\b|(?:日程|日時|時間|予定|時刻)(?:の|を)?(?:変更|調整|ずらし)|延期|リスケ|別日|(?:打ち?合わ?せ|会議|ミーティング|面談|アポ)(?:を|の|は)?(?:キャンセル|中止|変更)|改到|改期|改在|推迟|推遲|挪到|换到|換到|提前到|(?:会议|會議|会面|會面|见面|見面)(?:就|先)?取消|取消(?:会议|會議|会面|會面|见面|見面)/),
  MORE_MEETING_CHANGE,
);

/**
 * A slot: a weekday, an hour or a date; what makes a bare question a proposal ("drinks Friday at 6?"), where
 * "dinner tonight?" may be a family asking what to cook.
 */
const SLOT = joined(
  words(/\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tues?|wed|thurs?|fri|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo|luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)\b|\b(?:segunda|ter[cç]a|quarta|quinta|sexta)-feira\b|\b\d{1,2}(?::\d{2})?\s?(?:am|pm)\b|\b\d{1,2}[:.h]\d{2}\b|\b(?:at|um|à|a las?|às|alle|om) \d{1,2}\b|\b\d{1,2} ?(?:uhr|uur|h)\b|[月火水木金土日]曜|\d{1,2}時|[周週][一二三四五六日]|星期[一二三四五六日天]|\d{1,2}[点點]/),
  MORE_SLOT,
);

/**
 * Cold outreach: a recruiter's or a seller's first mail ends by asking for a call, but its purpose is the role
 * or the product ("other" in the labelled sets), not the call.
 */
const OUTREACH =
  words(/\b(?:came across|reaching out|i noticed (?:that )?(?:you|your)|(?:a|the|this|an exciting|open) (?:role|position|opportunity|opening)|recruit\w*|hiring|candidates?|our (?:platform|product|solution|tool|software|service)s?|companies like|teams like|(?:help|helps|helped) (?:companies|teams|businesses)|partnership|book a (?:call|demo|meeting)|calendly\.com|stelle|unsere (?:lösung|plattform)|poste|opportunité|notre (?:solution|plateforme)|puesto|oportunidad|nuestra (?:soluci[oó]n|plataforma)|vaga|oportunidade|nossa (?:solu[cç][aã]o|plataforma)|posizione|opportunità|la nostra (?:soluzione|piattaforma)|vacature|functie|ons platform|onze oplossing)\b|求人|採用|ポジション|招聘|职位|職位/);

/**
 * Family: "Mom", "Aunt Carol", "Mamá" as the sender's name or the last line. Family plans (Sunday lunch at
 * mum's, Easter at our place) are filed as "other" in the labelled sets, however concrete the time.
 */
const FAMILY =
  words(/^(?:(?:my |your |love,? |xx+,? |deine? |ta |ton |tu |tua |tuo |je )?(?:mum|mom|mommy|mummy|mam|mama|mamá|mamãe|mãe|maman|mamma|mutti|dad|daddy|papa|papá|pai|papà|papi|vati|grandma|grandpa|granny|gran|nan|nana|oma|opa|abuela|abuelo|avó|avô|nonna|nonno|mamie|papy|mamy)|(?:aunt|auntie|uncle|tante|onkel|tía|tío|tia|tio|zia|zio|oom)(?: \S+)?|お母さん|お父さん|母|父|妈妈|媽媽|爸爸|妈|爸)(?: ?[(<].*)?$/m);

/** A day or an hour: what makes a proposal concrete. */
const SPECIFIC_TIME = joined(
  words(/\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tues?|wed|thurs?|fri)\b|\b(?:today|tonight|tomorrow|tmrw)(?:'s)?\b|\bthis (?:morning|afternoon|evening)\b|\bat (?:noon|\d{1,2}(?:[:.]\d{2})?)\b|\b\d{1,2}(?::\d{2})?\s?(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]* \d{1,2}(?:st|nd|rd|th)?\b|\b(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|übermorgen|heute)\b|(?<!guten )\bmorgen\b|\bum \d{1,2}(?:[:.]\d{2})?\b|\b\d{1,2}(?:[:.]\d{2})? ?uhr\b|\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|demain|aujourd'hui|ce soir|ce midi|cet après-midi|ce matin)\b|\b\d{1,2} ?h(?:\d{2})?\b|\b(?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo|mañana|hoy|esta tarde|esta noche)\b|\ba las? \d{1,2}\b|\b(?:segunda|ter[cç]a|quarta|quinta|sexta)-feira\b|\b(?:na|nesta|próxima) (?:segunda|ter[cç]a|quarta|quinta|sexta)\b|\b(?:amanhã|amanha|hoje)\b|\bàs \d{1,2}\b|\b(?:luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica|domani|oggi|stasera|stamattina)\b|\balle \d{1,2}\b|\b(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|overmorgen|vandaag|vanavond|vanmiddag|vanochtend)\b|\bom \d{1,2}(?:[:.]\d{2})?\b|\b\d{1,2} uur\b|明日|明後日|あした|今日|本日|今夜|今晩|[月火水木金土日]曜|\d{1,2}時|午前|午後|\d{1,2}月\d{1,2}日|明天|后天|後天|今天|今晚|下周|下週|本周|这周|這週|[周週][一二三四五六日末]|星期[一二三四五六日天]|礼拜[一二三四五六天]|禮拜[一二三四五六天]|上午|下午|\d{1,2}[点點]/),
  MORE_SPECIFIC_TIME,
);

/** Asking for a change: a question, or "can we", "need to", "sorry", "on peut", "podemos", "させてください", "可以吗". */
const REQUEST =
  words(/[?？¿]|\b(?:can|could|shall|should|may) (?:we|i)\b|\b(?:need|have|want|would like|'d like|wanted|hoping) to\b|\b(?:i'll|i will|we'll|we will) (?:have|need) to\b|\blet'?s\b|\b(?:sorry|unfortunately)\b|\b(?:können|könnten|sollen|wollen|müssen) wir\b|\b(?:kannst|könntest) du\b|\b(?:können|könnten) sie\b|\blass(?:t)? uns\b|\bich muss\b|\bleider\b|\bon (?:peut|pourrait)\b|\b(?:peut|pourrait)-on\b|\b(?:pouvons|pourrions)-nous\b|\bje (?:dois|vais devoir)\b|\bil (?:faut|faudrait)\b|\bje voudrais\b|\bj'aimerais\b|\bdésolée?\b|\b(?:podemos|podríamos|poderíamos|puedes|podrías|podes)\b|\btengo que\b|\btenho que\b|\bnecesito\b|\bpreciso\b|\bhay que\b|\bme gustaría\b|\bgostaria\b|\blo siento\b|\bdesculp[ae]\b|\b(?:possiamo|potremmo|puoi|potresti)\b|\b(?:devo|dobbiamo|vorrei)\b|\bpurtroppo\b|\b(?:kunnen|zullen|moeten) we\b|\bkun je\b|\bkunt u\b|\bik moet\b|\bhelaas\b|いかがでしょうか|いかがですか|可能でしょうか|可能ですか|よろしいでしょうか|いただけますか|いただけませんか|させてください|させていただ|お願いできますか|できますか|可以吗|可以嗎|行吗|行嗎|方便吗|方便嗎|好吗|好嗎|能不能|能否|可不可以|抱歉|不好意思/);

/**
 * Proposing a time to someone: "are you free", "does Thursday work", "how about", "let's grab", "hast du Zeit",
 * "tu es dispo", "¿te viene bien?", "ti va", "zin om", "ご都合", "有空吗". A bare question is not enough ("can you
 * send the slides before Thursday's meeting?" asks for slides), unless it is a short one ("drinks Friday at 6?").
 */
const SCHEDULING_PROPOSAL = joined(
  words(/\bare you (?:free|around|available|up for|in for|down for)\b|\bfree (?:for|on|at)\b|\b(?:does|would|will|could|is) (?:\S+ ){1,4}(?:work|suit|good)(?: for (?:you|everyone|both of us))?\b|\bworks? for you\b|\b(?:how|what) about (?:(?:this|next|on) )?(?:mon|tue|wed|thu|fri|sat|sun|tomorrow|today|tonight|\d)|\bhow about (?:we|grabbing|getting|meeting|a)\b|\blet'?s (?:meet|grab|get|do|have|catch|hop|jump|schedule|set|book|talk|chat|sync|find)\b|\bshall we\b|\b(?:can|could|should) we (?:meet|grab|get|do|have|catch|hop|jump|schedule|set up|book|talk|chat|sync|find)\b|\b(?:want|like|keen) to (?:meet|grab|get|do|have|catch|join)\b|\bdo you (?:have|want|fancy)\b|\bfancy (?:a|an|some|grabbing|getting|meeting)\b|\bup for\b|\bwould love to (?:meet|grab|get|catch|chat)\b|\b(?:i'd|i would) like to (?:meet|grab|get|set up|schedule|catch|chat|talk)\b|\b(?:hast du|haben sie|hättest du|hätten sie) (?:\w+ )?(?:zeit|lust)\b|\bpasst (?:es|dir|ihnen|euch)\b|\b(?:wollen|sollen|können) wir uns\b|\blass(?:t)? uns\b|\b(?:bist du|sind sie) (?:\w+ )?(?:frei|verfügbar)\b|\b(?:es-tu|êtes-vous|tu es|vous êtes|tu serais|seriez-vous) (?:libre|dispo\w*)\b|\bça (?:te|vous) (?:va|dit|convient|irait)\b|\bon se (?:voit|fait|retrouve|cale|appelle)\b|\b(?:on (?:peut|pourrait)|peut-on|pourrait-on) se (?:voir|caler|parler|appeler|retrouver)\b|\b(?:tu as|vous avez) (?:le )?temps\b|\bje (?:te|vous) propose\b|\b(?:estás|está|estáis) (?:libre|disponible)\b|\b(?:te|le) (?:viene|va) bien\b|¿quedamos|\bquedamos (?:el|este|esta|mañana|hoy|a las|para)\b|\b(?:podemos|podríamos|poderíamos) (?:nos )?(?:vernos|quedar|hablar|ver|falar|marcar)\b|\b(?:tienes|tiene|tem|você tem) (?:un rato|um tempo|tiempo|tempo)\b|\bte apetece\b|\b(?:te|le|lhe) propongo\b|\b(?:está|estás) (?:livre|disponível)\b|\bpode ser\b|\bque tal\b|\bqué tal (?:si|el|la)\b|\bbora\b|\bvamos (?:marcar|tomar|almoçar|jantar|nos ver)\b|\bfica bom\b|\b(?:sei|è) (?:liber[oa]|disponibile)\b|\b(?:ti|le) (?:va|andrebbe)\b|\b(?:hai|ha) tempo\b|\b(?:possiamo|potremmo) (?:vederci|sentirci|fissare)\b|\bche ne dici\b|\bva bene per te\b|\b(?:heb je|heeft u) (?:\w+ )?(?:tijd|zin)\b|\bzin om\b|\b(?:schikt|past|lukt) (?:het|dat)\b|\bzullen we\b|\bkunnen we (?:afspreken|bellen|lunchen)\b|\b(?:ben je|bent u) (?:\w+ )?(?:vrij|beschikbaar)\b|\bwat dacht je van\b|ご都合(?:の)?(?:よい|よろしい|良い)(?:日時|日程|時間|日)|お時間(?:を)?(?:いただけ|頂け|ございますか|ありますか)|空いて(?:いますか|いらっしゃいますか|ますか)|(?:ランチ|食事|飲み|お茶|打ち?合わ?せ)(?:でも|に)?(?:しませんか|行きませんか)|(?:明天|后天|後天|今天|今晚|下周|下週|[周週][一二三四五六日末]|星期[一二三四五六日天]|上午|下午|晚上|\d{1,2}[点點])[^\n，,。？?]{0,8}(?:可以吗|可以嗎|行吗|行嗎|方便吗|方便嗎|怎么样|怎麼樣|好吗|好嗎)|有空吗|有空嗎|有时间吗|有時間嗎|一起(?:吃|喝|聊)|约个|約個|想约|约你|约您|約你|約您/),
  MORE_SCHEDULING_PROPOSAL,
);

const SUPPORT: Family[] = [
  fam('request received', /\bvi har (?:tagit emot|mottagit) (?:ditt|din|er) (?:ärende|förfrågan|fråga|meddelande)|\babbiamo ricevuto la tua (?:segnalazione|richiesta|email|e-mail)\b|\brecebemos (?:o seu|a sua|seu|sua) (?:pedido|mensagem|solicita[cç][aã]o|contacto|contato)\b|\bwir haben ihre (?:anfrage|nachricht|e-mail) erhalten\b|\bwe hebben (?:je|uw) (?:vraag|bericht|melding|e-mail) (?:goed )?ontvangen\b|\bnous avons bien reçu votre (?:réclamation|demande|message)\b|\bwe(?:'ve| have)? (?:received|got) your (?:request|message|inquiry|enquiry|e-?mail|ticket|case|note)\b|\breceived your request\b|\b(?:a )?ticket has been (?:created|opened)\b|\bvielen dank für ihre anfrage\b|\bnous avons (?:bien )?reçu votre (?:demande|message)\b|\bhemos recibido (?:tu|su) (?:solicitud|mensaje|consulta)\b/),
  fam('case/ticket number', /(?:^|[\s(\[])(?:ärende|ärendenummer|sag|saksnummer)\s*(?:nr\.?|#)?\s*:?\s*#?\d{4,}\b|\b(?:ticket|case|request|incident) (?:number|no\.?|id|#)|\b(?:protocolo|chamado|caso|ticket|demande|anfrage|solicitud|richiesta|pratica|melding|dossier|vorgang)\s*(?:n[°º.]?|#|nr\.?|número|numero|nummer|de atendimento)?\s*:?\s*\d{5,}\b|\b(?:référence|referencia|referência|riferimento|referentie|referenz|reference) (?:de (?:votre|su|sua) )?(?:demande|solicitud|solicitação|pedido|richiesta|aanvraag|anfrage|request|ticket)?\s*:?\s*\d{4,}\b|\byour (?:case|ticket|request) (?:number |id )?(?:is|has been)\b|\bcase id\b|\bticketnummer\b|\bnuméro de (?:ticket|dossier|demande)\b|\bn[uú]mero de (?:caso|ticket|solicitud)\b/),
  fam('contacting support', /\bthank(?:s| you) for (?:contacting|reaching out to) (?:\w+ ){0,3}(?:support|customer (?:care|service)|help|team|us)\b|\bthank(?:s| you) for (?:reaching out|getting in touch|writing in)\b|\bgracias por contactar\b|\bmerci d'avoir contacté\b|\bmerci de nous avoir contactés?\b|\bdanke,? dass sie (?:uns )?kontaktiert\b|\bobrigad[oa] por (?:entrar em contato|contatar)\b/),
  fam('support team', /售后|售後|客服专员|客服專員|客服热线|客服熱線|アフターサービス|カスタマーサポート|\bwarranty (?:claim|replacement|repair|request|case)\b|\bgarantie(?:anspruch|fall|antrag|aanvraag|claim)\b|\bdemande de (?:prise en charge sous )?garantie\b|\breclamaci[oó]n de garant[ií]a\b|\brichiesta di (?:assistenza in )?garanzia\b|\b(?:customer|technical|tech) (?:support|care|service|success|happiness|experience)\b|\bsupport (?:team|agent|engineer|representative|request|specialist|hours)\b|\bhelp ?desk\b|\bservice ?desk\b|\bkundenservice\b|\bkundendienst\b|\bservice client\b|\batenci[oó]n al cliente\b|\bequipo de soporte\b|\bklantenservice\b|\bservizio clienti\b|\batendimento ao cliente\b|\bapoio ao cliente\b|\bassistência ao cliente\b|\bsoporte técnico\b/),
  fam('resolution', /\b(?:your |deine |ihre |votre |su |tu |la tua |sua |je |uw )?(?:repair|reparatur|réparation|reparaci[oó]n|riparazione|repara[cç][aã]o|reparatie)\b[^\n]{0,20}?\b(?:status|r?\d{6,}|completed|abgeschlossen|terminée|completada|completata|conclu[íi]da|voltooid)\b|\bhas been (?:solved|resolved)\b|\b(?:to |can )?re-?open (?:this|the|your) (?:request|ticket|case|incident)\b|\bmarked (?:as )?resolved\b/),
  ...MORE_SUPPORT
];

/**
 * What an agent writes when answering a problem, without the template wording: thanks for the patience, sorry
 * for the trouble, "our engineers", "if the problem persists". Weak on its own (a colleague may say any of it):
 * it counts with a support sender or with one of the stronger support families above.
 */
const AGENT_REPLY: Family[] = [
  fam('patience/apology', /\bthanks? (?:you )?(?:for your patience|for bearing with us)\b|\b(?:sorry|apologi[sz]e) (?:for|about) (?:the|any) (?:inconvenience|trouble|delay|confusion)\b|\bmerci (?:pour|de) votre patience\b|\bvielen dank für ihre geduld\b|\bgracias por (?:tu|su) paciencia\b|\bobrigad[oa] pela (?:sua )?paci[eê]ncia\b|\bbedankt voor (?:je|uw) geduld\b/),
  fam('team looked into it', /\bi(?:'ve| have)? (?:looked|dug) into (?:this|it|your)\b|\bour (?:engineering|engineers|technical|tech|dev|development|product) (?:team|teams)?\b|\bnotre équipe (?:technique|support)\b|\bunser (?:technisches |support-)?team\b|\bnuestro equipo (?:técnico|de soporte)\b|\bi(?:'ve| have) (?:escalated|forwarded) (?:this|your)\b|\bi took a look on our side\b|\bwe(?:'ve| have) (?:identified|found|fixed|reproduced)\b/),
  fam('follow-up', /\bif the (?:problem|issue|error) (?:persists|comes back|continues)\b|\bsi le problème persiste\b|\bsi el problema persiste\b|\bse o problema persistir\b|\bsollte (?:das|der) (?:problem|fehler) weiterhin\b|\blet (?:me|us) know if (?:that|this|it) (?:helps|works|sorts it|fixes it|solves it|resolves it)\b|\bcould you (?:try again|check) and let (?:me|us) know\b/),
];

/**
 * What a vendor's engineer writes when they changed something on the customer's side: "I've lifted that for
 * yours", "I looked into your account". In a reply from the vendor's own domain it is a support answer even
 * without any help-desk wording (see rule 7).
 */
const AGENT_FIX =
  /\bj(?:á|a) corrigi\b|\bya (?:lo )?(?:he )?corregido\b|\bj'ai corrigé\b|\bich habe [^\n]{0,30}(?:behoben|korrigiert)\b|\bho (?:già )?corretto\b|\bik heb [^\n]{0,30}(?:opgelost|gecorrigeerd)\b|\bi(?:'ve| have)? (?:pushed|shipped|deployed|released|merged|rolled out) (?:a |the )?fix\b|\bi(?:'ve| have)? (?:looked|dug) into (?:your|this for you)\b|\bi(?:'ve| have) (?:lifted|enabled|disabled|switched|reset|fixed|increased|raised|restored|re-?enabled|unlocked|unblocked|refunded|updated|changed|moved|migrated|upgraded|extended|removed|cleared|restarted|bumped|credited|applied)\b[^\n]{0,60}?\b(?:for (?:you|yours|your \w+)|on your (?:account|side|end|workspace|project|plan)|(?:your|yours) (?:account|workspace|project|plan|org(?:anization)?|team|site|instance|tenant|subscription)?)\b/;

/** A sentence about a meeting that happened ("how was the call today?", "notes from Tuesday's meeting"): not scheduling. */
const MEETING_PAST =
  words(/\b(?:how (?:was|did)|did (?:you|we|they|he|she)|were you|was (?:it|the)|went|yesterday|last (?:week|night|time)|notes?|recording|minutes|recap|summary|thanks? for|thank you for)\b|\b(?:gestern|hier|ayer|ontem|ieri|gisteren)\b|昨日|昨天|先日|先週|上周|上週|ありがとう|お礼|御礼|議事録|資料|谢谢|謝謝|感谢|感謝|纪要|紀要|资料|資料/);

/**
 * A customer telling a person about a problem (rule 7, last clause): "since the last update the export button
 * does nothing and I get an error 500", "ich habe ein Problem mit der App: Fehlermeldung...", "je n'arrive plus à
 * me connecter". It takes problem wording, a report or request in the first person (what they did, since when,
 * "can you help"), and a product to have the problem with; from a person, not a monitoring system: alerts and
 * error digests are notifications ("other") however many errors they list.
 */
const PROBLEM: Family[] = [
  fam('not working', words(/\b(?:doesn'?t|does not|don'?t|do not|isn'?t|is not|aren'?t|are not|won'?t|will not|no longer|stopped|keeps? not) (?:work|working|works|load|loading|open|opening|start|starting|sync|syncing|save|saving|respond|responding|connect|connecting|show|showing|update|updating)\b|\bnot (?:working|loading|syncing|responding)\b|\bstopped working\b|\bdoes nothing\b|\b(?:keeps? )?fail(?:s|ed|ing)\b|\bkeeps? (?:logging|signing|kicking) me out\b|\b(?:get|getting|got|keep getting) logged out\b|\b(?:disappeared|vanished|(?:is|are) (?:gone|missing|wrong|incorrect|empty|stuck))\b|\bnothing happens\b|\bwon'?t let me\b|\bblank (?:page|screen)\b|\b(?:is|are|seems?|looks?) (?:to be )?broken\b|\bfunktionier\w* (?:\w+ )?nicht\b|\b(?:geht|klappt|lädt|startet|reagiert|öffnet sich) (?:\w+ )?nicht(?: mehr)?\b|\bne (?:fonctionne|marche|s'ouvre|charge|répond|se charge) (?:pas|plus)\b|\brien ne se passe\b|\bno (?:funciona|carga|abre|responde|me deja)\b|\bdej[oó] de funcionar\b|\bnão (?:funciona|carrega|abre|responde)\b|\bparou de funcionar\b|\bnon (?:funziona|carica|si apre|risponde)\b|\b(?:werkt|laadt|reageert|opent) (?:\w+ )?niet(?: meer)?\b|\bdoet het niet\b|動かない|動作しない|起動しない|表示されない|開けない|開かない|反映されない|打不开|打不開|不能用|用不了|没反应|沒反應|加载不出|加載不出|白屏/)),
  fam('error', words(/\b(?:get|getting|got|see|seeing|shows?|showing|throws?|says|an|the|this|same) (?:\w+ )?errors?\b|\berror (?:message|code|page|\d{3})\b|\b\d{3} error\b|\b(?:internal server|server|unknown|unexpected) error\b|\b(?:gives?|giving|returns?|returning|get|getting|got|shows?|showing) (?:me )?(?:an? )?(?:http )?(?:400|401|403|404|405|408|413|422|429|500|502|503|504)\b|\bfehler(?:meldung|code|seite)?\b|\b(?:message|code) d'erreur\b|\b(?:une|l'|cette) erreur\b|\berreur \d{3}\b|\b(?:mensaje|c[oó]digo|mensagem|c[oó]digo) de erro\w*\b|\b(?:me sale|me aparece|me da|da|dá|deu|aparece) (?:un |um |o |el )?error?\b|\b(?:messaggio|codice) di errore\b|\b(?:mi )?(?:dà|da|compare|appare) (?:un |l')?errore\b|\bfout(?:melding|code)\b|\b(?:krijg|geeft) (?:een |de )?fout\b|エラー|报错|報錯|出错|出錯|错误提示|錯誤提示/)),
  fam('crash', words(/\bcrash(?:es|ed|ing)?\b|\bfreez(?:es|ing)\b|\bfroze\b|\bhangs\b|\bstürzt (?:\w+ )?ab\b|\babgestürzt\b|\bhängt sich auf\b|\bplant(?:e|é)\b|\ba planté\b|\bse (?:cierra|bloquea|cuelga)\b|\btrav(?:a|ando|ou)\b|\bfech(?:a|ando|ou) sozinh[oa]\b|\bse (?:cierra|cerr[oó]) sol[oa]\b|\bse ferme tout(?:e)? seule?\b|\bsi (?:blocca|chiude da sol[oa])\b|\bcrasha\b|\bloopt vast\b|\bcrasht\b|落ちる|落ちます|強制終了|フリーズ|崩溃|崩潰|闪退|閃退|卡死/)),
  fam('cannot use', words(/\b(?:can'?t|cannot|can not|unable to|not able to) (?:log ?in|sign ?in|access|open|upload|download|export|import|save|connect|load|install|update|sync|print|pay|check ?out|reset|add|delete|remove|create|edit|change|submit|send|see|find)\b|\bn'arrive (?:pas|plus) à (?:me (?:re)?connecter|ouvrir|télécharger|importer|exporter|accéder|payer|valider|enregistrer|envoyer|installer|synchroniser|charger|ajouter|supprimer|modifier)\b|\bimpossible de (?:me (?:re)?connecter|se connecter|télécharger|ouvrir|exporter|importer|accéder|payer|valider|enregistrer|envoyer)\b|\b(?:kann|können) (?:mich |ich |wir )?(?:\w+ )?nicht (?:mehr )?(?:anmelden|einloggen|öffnen|hochladen|herunterladen|exportieren|importieren|speichern|zahlen|bezahlen|senden|verbinden)\b|\bno puedo (?:entrar|acceder|iniciar sesi[oó]n|subir|descargar|exportar|importar|abrir|pagar|guardar|enviar)\b|\bnão consigo (?:entrar|acessar|fazer login|logar|abrir|baixar|enviar|exportar|importar|salvar|pagar)\b|\bnon riesco (?:ad? )?(?:accedere|entrare|aprire|scaricare|caricare|esportare|importare|salvare|pagare|inviare)\b|\bkan (?:niet|me niet) (?:meer )?(?:inloggen|aanmelden|uploaden|downloaden|openen|exporteren|importeren|opslaan|betalen|versturen)\b|ログインできな|ログインできません|できなくな|无法(?:登录|登錄|打开|打開|上传|上傳|下载|下載|使用|导出|導出|支付)|無法(?:登入|打開|上傳|下載|使用)/)),
  fam('bug', words(/\bbugs?\b|\bbeug\b|\bglitch(?:es|y)?\b|不具合|バグ|故障/)),
];

const REPORT: Family[] = [
  fam('since a change', words(/\bsince (?:the |your |yesterday's |this morning's )?(?:last |latest |recent |new |most recent )?(?:update|upgrade|version|release|migration|change)\b|\bsince (?:yesterday|this morning|last (?:week|night)|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b|\bseit (?:dem|der|gestern|heute)\b|\bdepuis (?:la|le|hier|ce matin)\b|\bdesde (?:la|el|ayer|a|o|ontem|esta mañana)\b|\bdall'ultimo aggiornamento\b|\bda ieri\b|\bsinds (?:de|het|gisteren)\b|(?:アップデート|更新|バージョンアップ)(?:後|してから|以降)|(?:更新|升级|升級)(?:后|後|之后|之後|以后|以後)/)),
  fam('when I do something', words(/\b(?:when|whenever|every time|each time) (?:i|we) \w+|\bif (?:i|we) (?:try|click|press|tap|open|upload|log|sign|save|export|import)\b|\bi (?:think i )?(?:found|noticed|spotted) (?:a|an|the|that|some)\b|\bthere (?:seems to be|is|'s) (?:a|an) (?:bug|problem|issue|error)\b|\bfound a bug\b|\bfor me\b|\bon my (?:phone|laptop|mac|pc|computer|account|end|side)\b|\byour (?:app|site|website|checkout|page|form|api|service|tool|product|software|platform|plugin|extension)\b|\b(?:wenn|sobald|jedes mal,? wenn) ich\b|\b(?:quand|lorsque|chaque fois que|dès que) (?:je|j')\b|\b(?:cuando|cada vez que|siempre que) (?:intento|quiero|hago|abro|subo|entro|pulso|doy)\b|\b(?:quando|toda vez que|sempre que) (?:eu )?(?:tento|clico|abro|entro|envio)\b|\b(?:quando|ogni volta che) (?:provo|cerco|clicco|apro|carico)\b|\b(?:als|wanneer|elke keer als) ik\b|(?:しようと|すると|したところ|押すと|開くと)|每次|我(?:在|点|點|打开|打開|上传|上傳|登录|登錄)/)),
  fam('I get/see it', words(/\bi(?:'m| am)? (?:keep )?(?:get|getting|got|see|seeing|receive|receiving)\b|\b(?:gives?|shows?|tells?) me\b|\bi(?:'m| am) (?:having|experiencing|running into)\b|\bi(?:'ve| have) (?:a|an) (?:problem|issue)\b|\bi have (?:a|an|the same) (?:problem|issue)\b|\bi(?:'ve| have) (?:already )?(?:tried|cleared|reinstalled|restarted|updated)\b|\bich (?:bekomme|erhalte|sehe|habe (?:ein|das) problem|habe (?:schon|bereits) )|\bich habe ein problem\b|\bj'ai (?:un|une|le|ce|cette) (?:problème|souci|message|erreur|bug)\b|\bj'obtiens\b|\bj'ai (?:déjà )?(?:essayé|réinstallé|redémarré|vidé)\b|\bje (?:n'arrive|reçois|vois)\b|\b(?:tengo|tenemos) un problema\b|\bme (?:sale|aparece)\b|\bno puedo\b|\bhe (?:intentado|probado)\b|\b(?:estou|estamos) com (?:um )?problema\b|\btenho um problema\b|\bnão consigo\b|\bj[aá] tentei\b|\bho un problema\b|\bnon riesco\b|\bho (?:provato|già provato)\b|\bmi (?:compare|appare|dà|da)\b|\bik (?:heb een probleem|krijg|zie|kan niet)\b|\bik heb (?:al )?geprobeerd\b|困っています|困っております|と表示され|我(?:一直|遇到)/)),
  fam('asks for help', words(/\b(?:can|could) you (?:please )?(?:help|look|check|fix|advise|take a look|have a look|look into)\b|\bplease (?:help|fix|advise|look into|check)\b|\bis (?:this|it|that) a known (?:issue|bug|problem)\b|\bany idea (?:why|what|how)\b|\bis there a (?:fix|workaround)\b|\bwhat (?:can|should) i do\b|\bkönn(?:en|t) (?:sie|ihr) (?:mir )?(?:bitte )?(?:helfen|nachsehen|schauen)\b|\bbitte um hilfe\b|\bwas kann ich tun\b|\b(?:pouvez|pourriez)-vous (?:m'aider|regarder|vérifier|jeter un)\b|\bmerci de (?:m'aider|regarder|vérifier)\b|\bque dois-je faire\b|\b(?:me )?(?:pueden|podéis|podrían|podrias|podrían) ayudar(?:me)?\b|\bqué puedo hacer\b|\b(?:podem|poderiam) (?:me )?ajudar\b|\bo que (?:posso|devo) fazer\b|\b(?:potete|potreste) aiutarmi\b|\bmi potete aiutare\b|\bcosa posso fare\b|\bkunnen jullie (?:me )?helpen\b|\bkunt u (?:me )?helpen\b|\bwat kan ik doen\b|ご確認(?:いただけ|お願い|ください)|対応(?:を)?お願い|どうすれば|教えてください|助けてください|请(?:帮|幫|协助|協助)|請(?:幫|協助)|麻烦(?:看|帮)|麻煩(?:看|幫)|怎么办|怎麼辦|如何解决|如何解決/)),
];

/** What the problem is with: an app, a page, an account, a feature (so that "my car broke" is not a report). */
const PRODUCT =
  words(/\b(?:app|apps|application|website|site|web ?site|page|button|account|log ?in|sign ?in|login|(?:export|import|upload|download|sync)\w*|relat[oó]rios?|informes?|rapport\w*|navegador|navigateur|browser|servidor|serveur|sistema|système|system|plataforma|plateforme|piattaforma|dashboard|feature|integration|api|project|workspace|sidebar|menu|settings|tab|link|field|search|filter|image|photo|notifications?|(?:error|fehler|erreur|errore|erro|fout) ?\d{3}|\d{3} error|checkout|form|plugin|extension|update|version|software|tool|platform|portal|server|screen|browser|file|report|widget|editor|sync|password|error \d{3}|konto|seite|schaltfläche|anmeldung|funktion|appli|compte|bouton|connexion|fonction|fichier|aplicación|cuenta|página|bot[oó]n|archivo|aplicativo|conta|botão|arquivo|ficheiro|applicazione|sito|pagina|pulsante|funzione|knop|bestand|inloggen|webpagina)\b|アプリ|サイト|画面|アカウント|ボタン|機能|ログイン|ファイル|应用|應用|软件|軟體|网站|網站|页面|頁面|按钮|按鈕|账号|帳號|账户|功能|文件|登录|登錄|\bapp\b/);

/** Monitoring and alerting mail (an automated error report, however personal its wording). */
const MONITORING =
  words(/\b(?:monitors?|monitoring|triggered|threshold|alerts?|alerting|error rate|uptime|downtime|pagerduty|opsgenie|datadog|sentry|new relic|grafana|prometheus|status ?page|on-?call|recovered|p\d{2} latency)\b/);
const SYSTEM_LOCAL = /^(?:alerts?|alerting|monitor(?:ing)?|ops|devops|sre|status|system|daemon|root|cron|jenkins|ci|builds?|deploy|errors?|exceptions?|logs?|reports?)(?:[-_.+].*)?$/;

/**
 * A support role in a display name or in a signature ("Acme Support", "Customer Support Specialist"). A bare
 * "Support" counts only as a short title line, so that "Thanks for your support" is not a role.
 */
const SUPPORT_ROLE_TEXT =
  /^(?!.*\b(?:thanks?|for|your|the|our|of|with)\b)(?:\S+ ){0,3}(?:support|soporte|suporte|supporto|assistenza)(?: team)?$|^(?:support|soporte|suporte|supporto|assistenza) \S+(?: \S+)?$|\bsupport (?:team|engineer|specialist|agent|representative|lead|manager)\b|\bhelp ?desk\b|\bservice ?desk\b|\bcustomer (?:care|service|success|happiness|experience)\b|\bkundenservice\b|\bkundendienst\b|\bservice client\b|\bsupport client\b|\bapoio ao cliente\b|\bassistência ao cliente\b|\bsoporte técnico\b|\bsupport technique\b|\btechnischer support\b|\batenci[oó]n al cliente\b|\bsoporte\b|\bklantenservice\b|\bassistenza\b|\bservizio clienti\b|\batendimento\b/m;

/**
 * A security role in a display name or in a signature ("IT Security", "Security Operations", "Infosec"), or
 * the company's IT staff ("IT Manager"). A bare "Security" counts only as a short title line.
 */
const SECURITY_ROLE_TEXT =
  /\b(?:it|information|cyber|account|corporate) ?security\b|\bit (?:manager|department|team|director|administrator|admin|operations)\b|\bit ?(?:&|and|\/|\+) ?(?:security|infrastructure|operations)\b|\bit-(?:abteilung|leiter|leitung)\b|\bservice informatique\b|\bdepartamento de (?:ti|it|sistemas|informática)\b|\b(?:responsable|director|directora|jefe|jefa|técnico|técnica|administrador|administradora) de (?:sistemas|informática|ti|it)\b|\bsystèmes d'information\b|^(?:sistemas|informática|sistemi|systèmes|informatique|ict|it|edv|informatica)$|\bdsi\b|\b(?:sistemi informativi|ufficio it|reparto it)\b|\b(?:ict|it)[- ]?(?:afdeling|beheer|helpdesk|support|service ?desk|servicedesk)\b|\b(?:helpdesk|service ?desk) (?:it|ict)\b|\bequipe de ti\b|\bsetor de ti\b|\bsysadmin\b|\bsecurity (?:operations|team|office|department|desk)\b|\binfosec\b|\bciso\b|\bchief (?:information )?security officer\b|^(?!.*\b(?:thanks?|for|your|the|our|of|with)\b)(?:\S+ ){0,3}security(?: team)?$|\bsécurité\b|\bsicherheit\b|\bseguridad\b|\bsegurança\b|\bsicurezza\b|\bbeveiliging\b/m;

const SUPPORT_SUBJECT_ID: RegExp[] = [
  /\[(?:ticket|case|request|incident|caso|cas|anfrage|solicitud|chamado)\s*[#:]?\s*[\w-]*\d{3,}[^\]]*\]/i,
  /\b(?:ticket|case|request|incident|incidencia|incidente|incidenza|störung|storing|caso|anfrage|solicitud|chamado|fall|protocolo|protocollo|demande|dossier|richiesta|pratica|vorgang|melding|ärende|zgłoszenie|sag)(?:\s+[A-Z]{2,5})?\s*(?:#|no\.?|number|nr\.?|id|n°|nº|n\.|num\.?|número|numero|nummer)?\s*:?\s*#?\d{3,}(?:[-/]\d+)*\b/i,
  /\[[^\]]*#\d{3,}\]/,
  // a bare help-desk number in parentheses at the end: "Export stuck at 80% (#48213)"; not a tracker's
  // "[owner/repo] Fix race (#123)", whose repo tag says it is a pull request
  /^(?!\[[^\]\s]+\/[^\]\s]+\]).*\(#\d{4,}\)\s*$/,
];

const SUPPORT_SUBJECT_KEYED: RegExp[] = [
  // an issue tracker's or help desk's project key and number in brackets: "[ITSD-4412]", "[SUP-20931]"
  /\[#?(?!COVID)[A-Z][A-Z0-9]{1,9}-\d{2,7}\]/,
  // a help desk's subject tag: "[GitHub Support]", "[Acme Help Desk]"
  /^\[[^\]]*\b(?:support|help ?desk|service ?desk|customer (?:care|service))\][^\n]*\S/i,
  // ServiceNow-style numbers: INC0012345, RITM0012345, CS0012345
  /\b(?:INC|RITM|REQ|SCTASK|CS|PRB)\d{6,10}\b/,
  // a ticket word and a reference with letters: "request SR-20931", "Ticket: HD-55812"
  /\b(?:ticket|case|request|incident|caso|anfrage|solicitud|chamado|demande|richiesta|melding|ärende)\s*(?:#|no\.?|number|nr\.?|id|n°|nº|ref\.?)?\s*:?\s*#?[A-Z]{1,6}-?\d{3,}\b/i,
];

/** A help desk's own marks in a body: reply separators (localized), "Your request (12345)", portal links. */
const HELPDESK_BODY_MARKS: Family[] = [
  fam('reply separator', /(?:please )?(?:type|write|reply|add|enter) (?:your (?:reply|response|answer) )?above this line|^#{2,}-.{5,120}-#{2,}$|\b(?:über|oberhalb) dieser zeile\b|\bau-dessus de cette ligne\b|\bpor encima de esta l[ií]nea\b|\bacima desta linha\b|\bsopra (?:questa|la presente) (?:linea|riga)\b|\bboven deze regel\b/im),
  fam('request id in parentheses', /\b(?:your )?(?:segnalazione|reclamo|réclamation|reclamação|melding|request|ticket|case|anfrage|ihre anfrage|demande|votre demande|solicitud|su solicitud|richiesta|solicita[cç][aã]o|verzoek|aanvraag)\s*\((?:#|numero|número|n\.|nr\.?|no\.?|nummer)?\s?\d{3,}\)/i),
  fam('help desk portal link', /\bview request\b[^\n]{0,10}turn off this request'?s notifications\b|\/servicedesk\/customer\/portal\/|\/hc\/[\w-]+\/requests\/\d|\/(?:helpdesk|support)\/tickets\/\d|service-now\.com\/\S*(?:ticket|incident)|\bpowered by (?:jira service (?:management|desk)|zendesk|freshdesk|help ?scout|zoho desk|gorgias|kayako|servicenow|hubspot service)/i),
];

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
  fam('% off', /\b\d+\s?%\s?(?:günstiger|billiger|moins cher|más barato|korting|de desconto)\b|\b(?:zum )?halben preis\b|\bhalf price\b|\bmoitié prix\b|\bmitad de precio\b|\bmetà prezzo\b|\bmetade do preço\b|\bhalve prijs\b|\d+\s?%\s?off\b|\b\d+\s?%\s?(?:de )?(?:descuento|rabatt|réduction|remise|sconto)\b|(?:^|\s)-\d+\s?%|\bsave \d+\s?%|\bhasta (?:un )?\d+\s?%|\bjusqu'à -?\d+\s?%|\bbis zu \d+\s?%/),
  fam('sale', /\b(?:sale|flash sale|clearance|black friday|cyber monday)\b|\bsoldes\b|\brebajas\b|\bsaldi\b|\bschlussverkauf\b/),
  fam('call to action', /\bshop (?:now|the sale|the collection)\b|\bstart exploring\b|\bexplore (?:now|more|our|homes|the collection)\b|\bget inspired\b|\bbuy now\b|\border now\b|\bbook now\b|\bclaim (?:my|your)\b|\bsave your seat\b|\bregister (?:now|today|anyway)\b|\bgrab your\b|\b(?:get|buy|book) (?:your )?tickets?\b|\bswitch now\b|\bupgrade now\b|\bj'en profite\b|\bjetzt (?:entdecken|kaufen|sichern|shoppen)\b|\bangebot sichern\b|\bcompra ahora\b|\bdescubre\b/),
  fam('urgency', /\b(?:nur )?für kurze zeit\b|\bpour une durée limitée\b|\bpor tiempo limitado\b|\bper (?:un )?periodo limitato\b|\bpor tempo limitado\b|\bvoor (?:een )?beperkte tijd\b|\bearly[- ]bird\b|\blimited[- ]time\b|\blast chance\b|\bends (?:tonight|today|sunday|soon|at midnight)\b|\bwhile supplies last\b|\boffer ends\b|\bhurry\b|\bdon'?t miss\b|\bnur (?:noch )?heute\b|\bderniers jours\b|\búltimos días\b/),
  fam('free shipping', /\bfree shipping\b|\blivraison (?:offerte|gratuite)\b|\benv[ií]o gratis\b|\bversandkostenfrei\b|\bspedizione gratuita\b/),
  fam('coupon', /\bpromo(?:tion(?:al)?)? code\b|\bcoupon\b|\bdiscount\b|\bgutschein(?:code)?\b|\bcode promo\b|\buse code\b|\bc[oó]digo (?:promocional|de descuento)\b|\bdescuento\b|\brabatt\b/),
  fam('offer/deals', /\boffre spéciale\b|\boferta especial\b|\bofferta speciale\b|\bsonderangebot\b|\bspeciale aanbieding\b|\bsans engagement\b|\bje m'abonne\b|\bsubscribe now\b|\bjetzt abonnieren\b|\bsuscr[ií]bete\b|\babbonati\b|\bexclusive (?:offer|deal|access)\b|\bspecial offer\b|\bdeals?\b|\bbest ?sellers?\b|\bnew arrivals\b|\bsonderangebot|\bangebote\b|\bofertas?\b|\boffres?\b|\bofferte\b|\bmonths? (?:free|on us)\b|\bfree (?:trial|gift|months?)\b/),
  fam('re-engagement', /\bwe miss you\b|\bcome back\b|\bit'?s been a while\b/),
  fam('product news', /\bwhat'?s new\b|\bintroducing\b|\bnew features?\b|\bproduct updates?\b|\blearn more\b|\bwebinar\b|\bneuheiten\b|\bnouveautés\b|\bnovedades\b/),
  ...MORE_MARKETING
];

const NEWSLETTER_SELF_ID =
  /\bnewsletter\b|\bview (?:this (?:e-?mail|post|message|issue) )?(?:in|on) (?:your |the |a )?(?:browser|web)\b|\bview (?:it )?online\b|\bread (?:it )?online\b|\bforward (?:it|this(?: email)?) to a friend\b|\byou(?:'re| are)? (?:receiving|received|getting|get) this (?:e-?mail |message )?because you(?:'ve| have)? (?:subscribed|signed up|opted in)\b|\bweekly digest\b|\bmonthly digest\b|\bread in (?:the )?app\b|\b\d+ min(?:ute)? read\b|\bread the full (?:story|post|article|issue)\b|\byou(?:'re| are) (?:on|subscribed to) the (?:free|paid) list\b/;

/** Newsletter platforms: a bulk send from one of them is a newsletter whatever it says. */
const NEWSLETTER_DOMAINS = [
  'substack.com', 'beehiiv.com', 'buttondown.email', 'ghost.io', 'mcsv.net', 'mcdlv.net', 'list-manage.com',
  'convertkit-mail.com', 'convertkit-mail2.com', 'ck.page', 'mailerlite.com', 'mlsend.com', 'revue.email',
  'sendibt3.com', 'sendinblue.com', 'campaign-archive.com', 'cmail19.com', 'cmail20.com', 'createsend.com',
];

const UNSUBSCRIBE_TEXT =
  /\bunsubscribe\b|\bopt[- ]out\b|\bdésinscri|\bdésabonner\b|\babmelden\b|\babbestellen\b|\bdar(?:te|se)? de baja\b|\bdisiscriviti\b|\bcancelar (?:la )?suscripci[oó]n\b|\bemail preferences\b/;

const NOREPLY_LOCAL = /^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply|notifications?|notify|alerts?|mailer|auto[-_.]?confirm|automated)(?:[-_.+].*)?$|(?:^|[-_.])no[-_.]?reply(?:[-_.+]|$)/;
const SECURITY_LOCAL = /(?:^|[-_.+])(?:security|secure|account[-_.]?security|accountprotection|verify|verification|securite|sicherheit|seguridad|infosec|itsec|it[-_.]?security|cybersecurity|soc|csirt|cert)(?:[-_.+]|$)|^it(?:[-_.]?(?:team|dept|department|ops|admin))?$/;
const BILLING_LOCAL = /(?:^|[-_.+])(?:billing|invoices?|invoicing|receipts?|payments?|accounts?[-_.]?(?:payable|receivable)|ebilling|e-billing|statements?|rechnung(?:en)?|facture|factures|facturation|factura|facturacion|fatture|orders?|auto-confirm)(?:[-_.+]|$)|^(?:ar|ap)(?:[-_.+].*)?$/;
const SUPPORT_LOCAL = /^(?:support|help|helpdesk|kefu|bantuan|destek|podpora|wsparcie|asistencia|assistenza|suporte|tuki|ondersteuning|kundservice|kundeservice|ugyfelszolgalat|care|customer[-_.]?care|customer[-_.]?service|customerservice|service[-_.]?desk|servicedesk|it[-_.]?help|soporte|kundenservice|kundendienst|klantenservice|assistance|hilfe|ayuda|supporto|atendimento|atencion|tickets?|sav|service[-_.]?client)(?:[-_.+].*)?$/;
const MARKETING_LOCAL = /^(?:newsletters?|news|marketing|offers?|deals|promo|promos|promotions?|ofertas|angebote|sales|store-news|shop)(?:[-_.+].*)?$/;

// ---------------------------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------------------------

interface Signals {
  subject: string;
  /** The subject as written (reply prefixes stripped, lookalikes normalised, case kept): ids are case-sensitive. */
  subjectCased: string;
  body: string;
  /** The new text in its own case (an IBAN, a code are upper case). */
  rawBody: string;
  /** The signature, or the last lines of the body when none was split: where a sender states their role. */
  closing: string;
  closingWhere: 'signature' | 'closing lines';
  fromLocal: string;
  fromDomain: string;
  fromName: string;
  hostDomains: { where: string; domain: string }[];
  bulk: string[];
  automated: string[];
  /** Gmail's own tab for the message (CATEGORY_PROMOTIONS...), lowercased without the prefix; null when absent. */
  gmailCategory: string | null;
  newsletter: boolean;
  unsubscribeText: boolean;
  amount: string | null;
  isReply: boolean;
  /** A forward ("Fwd:"): its body is read in full. */
  forwarded: boolean;
  documentAttached: boolean;
  /** Sent by a person from their own mailbox, not by an organisation's system (see `isPersonalSender`). */
  personalSender: boolean;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1).toLowerCase().replace(/>$/, '') : '';
}

/** Help desks that send from a customer's own domain under their name: reply+id@intercom-mail.example.app. */
const HELPDESK_LABELS = ['intercom-mail', 'zendesk', 'freshdesk', 'helpscout', 'gorgias', 'zohodesk', 'kayako', 'happyfox', 'reamaze', 'helpshift'];

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

function isReplySubject(subject: string): boolean {
  return /^(?:re|aw|sv|vs|antw|res|r)\s*(?:\[\d+\])?\s*:/i.test(subject.trim());
}

const CONSUMER_MAIL_DOMAINS = [
  'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.es', 'ymail.com', 'outlook.com',
  'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'live.com', 'msn.com', 'icloud.com', 'me.com', 'mac.com', 'aol.com',
  'proton.me', 'protonmail.com', 'pm.me', 'gmx.de', 'gmx.net', 'gmx.at', 'web.de', 't-online.de', 'orange.fr',
  'free.fr', 'laposte.net', 'sfr.fr', 'libero.it', 'virgilio.it', 'btinternet.com', 'sky.com', 'ziggo.nl', 'kpnmail.nl',
  'telenet.be', 'bluewin.ch', 'seznam.cz', 'wp.pl', 'o2.pl', 'mail.ru', 'yandex.ru', 'uol.com.br', 'bol.com.br',
  'terra.com.br', 'qq.com', '163.com', 'naver.com', 'fastmail.com', 'zoho.com', 'hey.com', 'tutanota.com',
];

/**
 * A person's own mailbox: a consumer mail domain, or a local part made of the display name's words
 * ("Ben Carter" <ben.carter@...>, "Jane Doe" <jdoe@...>). A brand's one-word name ("Venmo" <venmo@...>) is not.
 */
function isPersonalSender(fromLocal: string, fromDomain: string, fromName: string): boolean {
  if (matchesDomain(fromDomain, CONSUMER_MAIL_DOMAINS)) return !NOREPLY_LOCAL.test(fromLocal);
  const nameWords = fromName.split(/[\s,]+/).filter((w) => /^\p{L}{2,}$/u.test(w));
  if (nameWords.length < 2 || nameWords.length > 4) return false;
  const local = fromLocal.replace(/[-_.+\d]/g, '');
  const [first, last] = [nameWords[0] ?? '', nameWords[nameWords.length - 1] ?? ''];
  return local.includes(last) && (local.includes(first) || local.startsWith(first[0] ?? ''));
}

const DOCUMENT_TYPES = /^application\/(?:pdf|msword|vnd\.openxmlformats|vnd\.oasis|vnd\.ms-excel)|^text\/csv/;

function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}

function extractSignals(m: NormalizedMessage): Signals {
  const subjectCased = normalizeForMatching(stripReplyPrefixes(m.subject ?? ''));
  const subject = subjectCased.toLowerCase();
  const rawBody = normalizeForMatching((isForward(m.subject ?? '') ? m.bodyText : m.cleanBody) ?? '');
  const body = rawBody.toLowerCase();
  const signature = normalizeForMatching(m.signature ?? '').toLowerCase();
  const fromAddr = m.from?.address ?? '';
  const fromLocal = fromAddr.slice(0, Math.max(0, fromAddr.lastIndexOf('@'))).toLowerCase();
  const fromDomain = domainOf(fromAddr);
  const fromName = normalizeForMatching(m.from?.name ?? '').toLowerCase();

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
  if (AUTOMATED_TEXT.test(`${rawBody}\n${m.signature ?? ''}`)) automated.push('says it is an automatic message');

  const gmailLabel = (m.labelIds ?? []).find((l) => /^CATEGORY_(?:PROMOTIONS|SOCIAL|UPDATES|FORUMS|PERSONAL)$/.test(l));
  const gmailCategory = gmailLabel ? gmailLabel.slice('CATEGORY_'.length).toLowerCase() : null;

  // footers are sometimes split off as a signature; an unsubscribe line there still counts
  const fullText = `${subject}\n${body}\n${signature}`;
  const unsubscribeText = UNSUBSCRIBE_TEXT.test(fullText);
  const listId = (h.listId ?? '').toLowerCase();
  const platform = [fromDomain, domainOf(listId.replace(/[<>]/g, '').replace(/^[^.]*\./, '@'))].some((d) => matchesDomain(d, NEWSLETTER_DOMAINS));
  const newsletter = (bulk.length > 0 || unsubscribeText) && (NEWSLETTER_SELF_ID.test(fullText) || platform);
  const amountMatch = CURRENCY_AMOUNT.exec(`${subjectCased}\n${rawBody}`);

  return {
    subject,
    subjectCased,
    body,
    rawBody,
    closing: signature !== '' ? signature : lastLines(body, 3),
    closingWhere: signature !== '' ? 'signature' : 'closing lines',
    fromLocal,
    fromDomain,
    fromName,
    hostDomains,
    bulk,
    automated,
    gmailCategory,
    newsletter,
    unsubscribeText,
    amount: amountMatch ? amountMatch[0].trim() : null,
    isReply: m.inReplyTo !== null || isReplySubject(m.subject ?? ''),
    forwarded: isForward(m.subject ?? ''),
    documentAttached: m.attachments.some((a) => DOCUMENT_TYPES.test(a.mimeType) || /\.(?:pdf|docx?|xlsx?|odt|csv)$/i.test(a.filename)),
    personalSender: isPersonalSender(fromLocal, fromDomain, fromName),
  };
}

/** A name in double quotes or guillemets, as notifications quote what was shared, signed or booked. */
const QUOTED_NAME = /["“„«「『][^"“”„«»「」『』\n]{1,120}["”“»」』]/g;

/** The names of the families that match (once each: more-languages.ts extends families under their names). */
function hits(families: Family[], text: string): string[] {
  return [...new Set(families.filter((f) => f.re.test(text)).map((f) => f.name))];
}

const list = (xs: string[]) => xs.join(', ');

/**
 * Sentences: split after . ! ? (and the full-width 。！？) and at line breaks; not after a day's or an
 * ordinal's number ("auf Donnerstag, den 13. März verschieben", "torsdag 3. april").
 */
function sentences(text: string): string[] {
  return text
    .split(/(?<=[!?]|(?<!(?:^|[\s(])\d{1,2})\.)\s+|(?<=[。！？])|\n+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

const quote = (x: string) => `"${x.length > 80 ? `${x.slice(0, 77)}...` : x}"`;

/** A short note: a mail of at most this many sentences is about whatever it asks. */
const SHORT_NOTE_SENTENCES = 6;
/** A mail of at most this many sentences that asks to move or cancel a named meeting is about that meeting. */
const CHANGE_REQUEST_SENTENCES = 12;

/**
 * Where a message asks to set, move or cancel a meeting (see MEETING_WORD): the subject or one sentence names a
 * meeting and asks to change it (a change verb with a request, see REQUEST) or proposes a day or an hour for it
 * (see SCHEDULING_PROPOSAL); or the subject names the meeting and a sentence asks to change it ("Re: our 1:1" /
 * "can we push it to Friday?"). A sentence in the body counts when the subject is about the meeting or the mail
 * is a short note. Null when nothing does.
 */
function schedulingAsk(subject: string, body: string): string | null {
  const short = (x: string) => /[?？]/.test(x) && SLOT.test(x) && x.split(/\s+/).length <= 8 && x.length <= 60;
  const change = (x: string) => MEETING_CHANGE.test(x) && REQUEST.test(x) && !MEETING_PAST.test(x);
  // a proposal whose times are listed below it, one per line ("・3月18日（火）10:00〜", "- Tue 14:00")
  const listedSlots = body.split('\n').filter((line) => line.length <= 60 && SPECIFIC_TIME.test(line)).length >= 2;
  const propose = (x: string) =>
    (SPECIFIC_TIME.test(x) || (listedSlots && SCHEDULING_PROPOSAL.test(x))) && (SCHEDULING_PROPOSAL.test(x) || short(x)) && !MEETING_PAST.test(x);
  const asks = (x: string) => MEETING_WORD.test(x) && (change(x) || propose(x));
  if (asks(subject)) return `in subject ${quote(subject)}`;
  const said = sentences(body);
  // the meeting is the mail's purpose: its subject names the meeting or a day, or the mail is a short note; a
  // long mail (a family update, a business letter) that mentions a meeting on the side is about something else
  const about = MEETING_WORD.test(subject) || SPECIFIC_TIME.test(subject) || MEETING_CHANGE.test(subject);
  const note = said.length <= SHORT_NOTE_SENTENCES;
  if (!about && !note) {
    // a business letter of a few paragraphs whose one request is to move or call off a meeting named in it
    // ("Können wir unser Telefonat auf Donnerstag verschieben?") is about that meeting
    const moved = said.length <= CHANGE_REQUEST_SENTENCES ? said.find((x) => MEETING_WORD.test(x) && change(x)) : undefined;
    return moved ? quote(moved) : null;
  }
  const found = said.find(asks);
  if (found) return quote(found);
  if (MEETING_WORD.test(subject)) {
    const asked = said.find(change);
    if (asked) return `meeting in subject, change asked: ${quote(asked)}`;
  }
  return null;
}

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

function evaluate(m: NormalizedMessage, model: ModelWeights | null): RuleResult {
  const s = extractSignals(m);
  const context: string[] = [];
  if (s.bulk.length > 0) context.push(`bulk headers: ${list(s.bulk)}`);
  if (s.newsletter) context.push('self-identified newsletter');
  if (s.gmailCategory) context.push(`Gmail category: ${s.gmailCategory}`);

  // 1. calendar/structured
  if (m.hasCalendarInvite) {
    return result('calendar', '1 calendar/structured', true, ['text/calendar part or .ics attachment']);
  }

  const supportSender = SUPPORT_LOCAL.test(s.fromLocal)
    ? `support sender ${s.fromLocal}@`
    : SUPPORT_ROLE_TEXT.test(s.fromName)
      ? `support role in sender name "${s.fromName}"`
      : null;
  const supportWho = supportSender ?? (SUPPORT_ROLE_TEXT.test(s.closing) ? `support role in ${s.closingWhere}` : null);

  // an out-of-office auto-reply says only that someone is away, whatever their work is about (a help desk's
  // "automatic reply: we got your email" is its acknowledgement, rule 7), on a ticket thread too
  if (OUT_OF_OFFICE_SUBJECT.test(s.subject) && supportSender === null) {
    return result('other', '3 out of office', false, ['out-of-office reply']);
  }

  // 2. support/structured
  const subjectId = [...SUPPORT_SUBJECT_ID, ...SUPPORT_SUBJECT_KEYED].map((re) => re.exec(s.subjectCased)).find((x) => x !== null);
  if (subjectId) {
    return result('support', '2 support/structured', true, [`ticket/case id in subject: "${subjectId[0]}"`]);
  }
  const marketingAll = hits(MARKETING, `${s.subject}\n${s.body}`);
  const bulkMarketing = s.newsletter || (s.bulk.length > 0 && marketingAll.length > 0);
  const supportHitsAll = hits(SUPPORT, `${s.subject}\n${s.body}`);
  if (!bulkMarketing || supportHitsAll.length > 0) {
    for (const { where, domain } of s.hostDomains) {
      const platform = matchesDomain(domain, HELPDESK_DOMAINS) ?? HELPDESK_LABELS.find((label) => domain.split('.').includes(label)) ?? null;
      if (platform) return result('support', '2 support/structured', true, [`helpdesk platform ${platform} (${where})`]);
    }
    const marks = hits(HELPDESK_BODY_MARKS, s.body);
    if (marks.length > 0) return result('support', '2 support/structured', true, [`helpdesk marks in body: ${list(marks)}`]);
  }

  const calendarCues = hits(CALENDAR_CUES, s.body);

  // 3. calendar/subject
  if (CALENDAR_PREFIX.test(s.subject) && (SUBJECT_AT_DATE.test(s.subject) || calendarCues.length > 0)) {
    const why = SUBJECT_AT_DATE.test(s.subject) ? 'with "@ <date>"' : `with body cues: ${list(calendarCues)}`;
    return result('calendar', '3 calendar/subject', true, [`calendar subject prefix "${(/^[^:]+:/.exec(s.subject) ?? [''])[0]}" ${why}`]);
  }


  // 4. security
  const securityWho = SECURITY_LOCAL.test(s.fromLocal) || /^(?:accounts?|accountprotection|security)\./.test(s.fromDomain)
    ? `security sender ${s.fromLocal}@${s.fromDomain}`
    : SECURITY_ROLE_TEXT.test(s.fromName)
      ? `security role in sender name "${s.fromName}"`
      : SECURITY_ROLE_TEXT.test(s.closing)
        ? `security role in ${s.closingWhere}`
        : null;
  if (!s.newsletter || securityWho) {
    const subj = hits(SECURITY, s.subject);
    if (subj.length > 0) {
      return result('security', '4 security', false, [`security wording in subject: ${list(subj)}`, ...context]);
    }
    const body = hits(SECURITY, s.body);
    if (body.length >= 2) {
      return result('security', '4 security', false, [`security wording in body: ${list(body)}`, ...context]);
    }
    // one security phrase in machine mail: but "we will never ask for your password" is a footer banks put
    // under every statement, not a security notice on its own
    // (nor is a list's or a digest's one mention of a scam: a topic, not a notice)
    const weakAlone = body[0] === 'never asks' || (body[0] === 'threat' && s.bulk.length > 0);
    if (body.length === 1 && (securityWho || (s.automated.length > 0 && !weakAlone))) {
      return result('security', '4 security', false, [`security wording in body: ${list(body)}`, `from ${securityWho ?? list(s.automated)}`, ...context]);
    }
  }

  // 5. billing
  const payment = matchesDomain(s.fromDomain, PAYMENT_DOMAINS) ?? (/^paypal\./.test(s.fromDomain) || /\.paypal\./.test(s.fromDomain) ? 'paypal' : null);
  const billingRole = BILLING_LOCAL.test(s.fromLocal) || payment !== null;
  // a person writing (a personal mailbox, no bulk or automated signal, nothing attached) may talk about bills
  const personal = s.personalSender && s.bulk.length === 0 && s.automated.length === 0 && !billingRole && !s.documentAttached;
  const instrument =
    !personal || BILLING_INSTRUMENT.test(s.body) || TRANSFER_DETAILS.test(s.rawBody) || hits(BILLING, s.body).some((n) => n === 'card on file' || n === 'charge');
  // a support agent answering a question about a bill is support: the conversation, not its topic
  const agentAnswer = supportWho !== null && s.isReply && !billingRole && s.automated.length === 0;
  // a marketing send about plans and billing ("save 20% with annual billing", "1 € a month for 6 months")
  // names no transaction: nothing paid, charged, received or owed
  const transaction = hits(BILLING, `${s.subject}\n${s.body}`).filter((n) => TRANSACTION_FAMILIES.has(n));
  const pitch = bulkMarketing && !billingRole && transaction.length === 0 && !BILLING_INSTRUMENT.test(s.body);
  // a bulk reminder of what was left in a cart names the items and their prices, and nothing was bought
  const cartReminder = s.bulk.length > 0 && ABANDONED_CART.test(`${s.subject}\n${s.body}`);
  // a shipping notice repeats the order's total; it is a bill only when its subject names one (money "on its
  // way" is a payout)
  const shippingNotice =
    SHIPPING_NOTICE.test(s.subject) &&
    !hits(BILLING, s.subject).some((n) => ['invoice', 'receipt', 'refund', 'payment', 'money transfer'].includes(n));
  if ((!s.newsletter || billingRole) && instrument && !agentAnswer && !pitch && !cartReminder && !shippingNotice) {
    // a quoted name in the subject (a shared folder "Receipts 2023", a document, an event) is not its topic
    const subj = hits(BILLING, s.subject.replace(QUOTED_NAME, ' ')).filter((n) => BILLING_SUBJECT_OK.has(n));
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

  // a person writing (no bulk or automated signal, no unsubscribe link, not the Promotions tab): rules 6 and 7
  // read such mail for a meeting being arranged or a problem being reported
  const conversational = s.bulk.length === 0 && s.automated.length === 0 && !s.unsubscribeText && !s.newsletter && s.gmailCategory !== 'promotions';
  // (only a person's mail can be a problem report: bulk and automated mail, most of a mailbox, skips these
  // vocabularies, and so does mail without problem wording)
  const problemText = `${s.subject}\n${s.body}`;
  const problem = conversational ? hits(PROBLEM, problemText) : [];
  const report = problem.length > 0 ? hits(REPORT, problemText) : [];
  const problemReport =
    report.length > 0 && PRODUCT.test(problemText) && !MONITORING.test(problemText) && !SYSTEM_LOCAL.test(s.fromLocal);

  // 6. calendar/text
  if (!s.newsletter) {
    if (calendarCues.length >= 2) {
      return result('calendar', '6 calendar/text', false, [`calendar cues: ${list(calendarCues)}`]);
    }
    if (calendarCues.length === 1 && EVENT_WORD.test(s.subject) && TIME_CUE.test(s.subject)) {
      return result('calendar', '6 calendar/text', false, [`calendar cue: ${list(calendarCues)}`, 'event word and time in subject']);
    }
    if (calendarCues.length === 1 && EVENT_WORD.test(s.subject) && TIME_CUE.test(s.body)) {
      return result('calendar', '6 calendar/text', false, [`calendar cue: ${list(calendarCues)}`, 'event word in subject, time in body']);
    }
    // a person arranging a meeting without an invite (see schedulingAsk). Not a help desk, a billing or a marketing
    // sender (a support agent offering a call is answering a ticket), not family (their plans are "other", see
    // FAMILY), no cold outreach (the role or the product is the purpose), nothing marketing ("join our call
    // Thursday"), and not a problem report that asks for a call on the side unless the subject is the meeting.
    const roleSender = supportWho !== null || billingRole || MARKETING_LOCAL.test(s.fromLocal);
    const family = FAMILY.test(s.fromName) || FAMILY.test(lastLines(s.closing, 1));
    const outreach = OUTREACH.test(`${s.subject}\n${s.body}`);
    if (conversational && !roleSender && !family && !outreach && marketingAll.length === 0 && (!problemReport || MEETING_WORD.test(s.subject))) {
      const ask = schedulingAsk(s.subject, s.body);
      if (ask) return result('calendar', '6 calendar/scheduling', false, [`a person arranging a meeting: ${ask}`]);
    }
  }

  // 7. support/keywords
  const vendorStaff = !s.personalSender && s.bulk.length === 0 && s.automated.length === 0 && !matchesDomain(s.fromDomain, CONSUMER_MAIL_DOMAINS);
  if (!s.newsletter || supportWho) {
    const subj = hits(SUPPORT, s.subject);
    const all = supportHitsAll;
    const agent = hits(AGENT_REPLY, s.body);
    const who = supportWho ? [supportWho] : [];
    if (all.length >= 2 || subj.length > 0 || (supportWho && all.length > 0)) {
      return result('support', '7 support/keywords', false, [`support wording: ${list(all)}`, ...who]);
    }
    if (all.length === 1 && agent.length > 0) {
      return result('support', '7 support/keywords', false, [`support wording: ${list(all)}`, `agent reply: ${list(agent)}`]);
    }
    if (supportWho && (agent.length > 0 || (s.isReply && s.bulk.length === 0))) {
      const why = agent.length > 0 ? `agent reply: ${list(agent)}` : 'a reply';
      return result('support', '7 support/keywords', false, [why, ...who]);
    }
    if (s.isReply && vendorStaff && AGENT_FIX.test(s.body)) {
      return result('support', '7 support/keywords', false, [`a reply from ${s.fromDomain} saying what they changed on the customer's side`]);
    }
    // a customer telling a person about a problem, without a help desk in between
    if (problemReport) {
      return result('support', '7 support/problem report', false, [`problem: ${list(problem)}`, `reported: ${list(report)}`, 'from a person']);
    }
    // a customer writing to a shop about an order of theirs that arrived damaged, wrong or not at all
    if (conversational && ORDER_REFERENCE.test(problemText) && GOODS_PROBLEM.test(problemText) && REQUEST.test(s.body)) {
      return result('support', '7 support/order problem', false, ['a customer on an order that went wrong', 'from a person']);
    }
  }

  // 8. promotion (not a person forwarding something: the unsubscribe link is the forwarded mail's)
  const marketingRole = MARKETING_LOCAL.test(s.fromLocal);
  const promotionsTab = s.gmailCategory === 'promotions';
  const sharedByPerson = s.forwarded && s.personalSender && s.bulk.length === 0;
  if (!sharedByPerson) {
    const bulkish = s.bulk.length > 0 || s.unsubscribeText || promotionsTab;
    if (bulkish && (s.newsletter || marketingAll.length > 0 || cartReminder || (promotionsTab && s.bulk.length > 0))) {
      const why = s.bulk.length > 0 ? `bulk headers: ${list(s.bulk)}` : s.unsubscribeText ? 'unsubscribe link in body' : 'Gmail category: promotions';
      return result('promotion', '8 promotion', false, [
        why,
        ...(promotionsTab && s.bulk.length > 0 ? ['Gmail category: promotions'] : []),
        ...(s.newsletter ? ['self-identified newsletter'] : []),
        ...(marketingAll.length ? [`marketing wording: ${list(marketingAll)}`] : []),
        ...(cartReminder ? ['a cart left behind'] : []),
      ]);
    }
    if (marketingAll.length >= 3) {
      return result('promotion', '8 promotion', false, [`marketing wording: ${list(marketingAll)}`]);
    }
    if (marketingRole && s.bulk.length > 0) {
      return result('promotion', '8 promotion', false, [`marketing sender ${s.fromLocal}@`, `bulk headers: ${list(s.bulk)}`]);
    }
  }

  // 9. the fallback model, when it is sure; else other
  if (model) {
    const p = predict(m, model);
    // (not a bill where a rule saw a shipping notice or a cart reminder: the model reads their totals as one)
    const overruled = p.category === 'billing' && (shippingNotice || cartReminder);
    if (p.category !== 'other' && p.probability >= MODEL_MIN_PROBABILITY && !overruled) {
      return result(p.category, '9 model', false, [
        `no rule matched; model: ${p.category} p=${p.probability.toFixed(2)}`,
        `features: ${list(p.because)}`,
      ]);
    }
  }
  const reasons = ['no rule matched'];
  if (s.bulk.length > 0) reasons.push(`bulk headers without marketing wording: ${list(s.bulk)}`);
  if (s.automated.length > 0) reasons.push(`automated: ${list(s.automated)}`);
  if (s.gmailCategory) reasons.push(`Gmail category: ${s.gmailCategory}`);
  return result('other', '9 other', false, reasons);
}

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

export function classifyMessage(m: NormalizedMessage, options: ClassifyOptions = {}): Classification {
  const { category, reasons } = evaluate(m, options.model === undefined ? SHIPPED_MODEL : options.model);
  return { category, reasons };
}

/**
 * A thread's category: the earliest message matching a structured rule (calendar part, ticket id, helpdesk,
 * calendar subject) decides; else the first message if it is not "other"; else the most frequent category
 * among the replies when it covers at least half of them; else "other". Messages are taken in the order
 * given, which should be chronological (sort by internalDate first).
 */
export function classifyThread(messages: NormalizedMessage[], options: ClassifyOptions = {}): Classification {
  if (messages.length === 0) return { category: 'other', reasons: ['empty thread'] };
  const model = options.model === undefined ? SHIPPED_MODEL : options.model;
  const results = messages.map((m) => evaluate(m, model));

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
