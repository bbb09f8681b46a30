/**
 * Signatures written without the RFC 3676 "-- " delimiter: a sign-off line ("Best regards,", "Cheers,",
 * "Mit freundlichen Grüßen", "Cordialement,", "Saludos,", "Met vriendelijke groet,", "Atenciosamente,",
 * "よろしくお願いいたします。"...) followed by a block that reads like a signature (a name, then a title, a
 * company, a phone, an address, a web site, a legal notice), at the very end of the new content. Also, without a
 * sign-off, a closing block that starts with the sender's own name ("Jenny Lee\nSecurity Operations\nInitech").
 *
 * It is conservative by construction, because cutting real content is worse than leaving a signature in:
 * - the block must run to the end of the new content, and every line in it must look like a signature line
 *   (short, no sentence, no question); a sign-off in the middle of a message followed by more paragraphs
 *   ("Kind regards,\nJo\n\nDoes this sound OK?") is content;
 * - a sign-off and a bare name ("Thanks,\nJohn", "Love,\nMum") is a valediction, part of the message: a
 *   signature has at least one line besides the name;
 * - there must be content before it.
 * The sign-off line belongs to the signature: the message reads complete without it.
 */

// Valedictions in the common languages, matched against the whole line (lowercased, trailing , . ! stripped).
const VALEDICTIONS = [
  // English
  'best', 'best regards', 'kind regards', 'kindest regards', 'warm regards', 'warmest regards', 'regards', 'many regards',
  'with regards', 'with kind regards', 'with best regards', 'best wishes', 'all the best', 'all best', 'warmly', 'warmest',
  'cheers', 'many thanks', 'thanks', 'thank you', 'thanks so much', 'thank you so much', 'thanks again', 'thanks a lot',
  'thanks in advance', 'thank you in advance', 'many thanks in advance', 'sincerely', 'sincerely yours', 'yours sincerely',
  'yours faithfully', 'yours truly', 'yours', 'respectfully', 'take care', 'talk soon', 'speak soon', 'have a great day',
  'have a nice day', 'thanks and regards', 'thanks & regards', 'regards and thanks', 'best,', 'cordially', 'love',
  // German
  'mit freundlichen grüßen', 'mit freundlichen grüssen', 'mit freundlichem gruß', 'mit freundlichem gruss', 'freundliche grüße',
  'freundliche grüsse', 'viele grüße', 'viele grüsse', 'beste grüße', 'beste grüsse', 'liebe grüße', 'liebe grüsse',
  'herzliche grüße', 'herzliche grüsse', 'schöne grüße', 'schöne grüsse', 'gruß', 'gruss', 'grüße', 'grüsse', 'lg', 'vg', 'mfg',
  'besten dank', 'vielen dank', 'danke', 'danke und viele grüße', 'danke und grüße',
  // French
  'cordialement', 'bien cordialement', 'très cordialement', 'bien à vous', 'bien à toi', 'salutations', 'sincères salutations',
  'meilleures salutations', 'salutations distinguées', 'bonne journée', 'belle journée', 'merci', 'merci beaucoup',
  'très bonne journée', 'excellente journée', 'bonne soirée', 'belle soirée', 'bonne fin de journée',
  "merci d'avance", 'merci par avance', 'à bientôt', 'amicalement', 'bises', 'je vous remercie',
  // Spanish
  'saludos', 'un saludo', 'saludos cordiales', 'un cordial saludo', 'atentamente', 'cordialmente', 'un abrazo', 'abrazos',
  'gracias', 'muchas gracias', 'mil gracias', 'quedo atento', 'quedo atenta', 'quedo a la espera',
  // Portuguese
  'atenciosamente', 'abraços', 'abraço', 'um abraço', 'cumprimentos', 'melhores cumprimentos', 'com os melhores cumprimentos',
  'obrigado', 'obrigada', 'muito obrigado', 'muito obrigada', 'att', 'at.te', 'grato', 'grata', 'saudações',
  // Italian
  'cordiali saluti', 'distinti saluti', 'saluti', 'un saluto', 'un caro saluto', 'grazie', 'grazie mille', 'buona giornata',
  'a presto', 'ciao',
  // Dutch
  'met vriendelijke groet', 'met vriendelijke groeten', 'vriendelijke groet', 'vriendelijke groeten', 'groeten', 'groet',
  'hartelijke groet', 'hartelijke groeten', 'mvg', 'groetjes', 'dank je wel', 'dank u wel', 'bedankt',
  // Nordic
  'med vänliga hälsningar', 'vänliga hälsningar', 'hälsningar', 'mvh', 'med venlig hilsen', 'venlig hilsen',
  'med vennlig hilsen', 'vennlig hilsen', 'hilsen', 'ystävällisin terveisin', 'terveisin',
  // Central European, Turkish
  'pozdrawiam', 'z poważaniem', 's pozdravem', 's pozdravom', 'saygılarımla', 'mit besten grüßen',
  'pozdrawiam serdecznie', 'serdecznie pozdrawiam', 'z wyrazami szacunku', 'dziękuję', 'děkuji', 'ďakujem', 's úctou',
  'hezký den', 'pekný deň', 'srdačan pozdrav', 'srdačno', 'pozdrav', 'lijep pozdrav', 'lep pozdrav', 's poštovanjem',
  'hvala', 'lp', 'üdvözlettel', 'tisztelettel', 'baráti üdvözlettel', 'köszönöm', 'üdv', 'cu stimă', 'cu drag',
  'mulțumesc', 'toate cele bune', 'o zi bună', 'pe curând', 'iyi çalışmalar', 'teşekkürler', 'iyi günler', 'sevgiler',
  'ar cieņu', 'paldies', 'ar labiem vēlējumiem', 'pagarbiai', 'ačiū', 'geros dienos', 'lugupidamisega',
  'parimate soovidega', 'tänan', 'aitäh', 'kveðja', 'bestu kveðjur', 'með kveðju', 'venlig hilsen og god dag',
  // Cyrillic, Greek
  'с уважением', 'с наилучшими пожеланиями', 'всего доброго', 'всего хорошего', 'спасибо', 'благодарю', 'з повагою',
  'дякую', 'з найкращими побажаннями', 'срдачан поздрав', 'поздрав', 'хвала', 'поздрави', 'с уважение', 'благодаря',
  'με εκτίμηση', 'φιλικά', 'ευχαριστώ', 'με φιλικούς χαιρετισμούς', 'χαιρετισμούς', 'με τιμή',
  // Malay and Indonesian, Vietnamese, Korean, Thai, Hindi, Swahili
  'salam', 'salam hangat', 'hormat saya', 'hormat kami', 'terima kasih', 'terima kasih banyak', 'wassalam',
  'trân trọng', 'cảm ơn', 'thân ái', 'thân mến', '감사합니다', '고맙습니다', 'ขอแสดงความนับถือ', 'ขอบคุณครับ', 'ขอบคุณค่ะ',
  'धन्यवाद', 'सादर', 'शुभकामनाओं सहित', 'asante', 'kwa heshima',
  // Arabic, Hebrew, Persian (right to left; their comma is ،)
  'مع أطيب التحيات', 'مع خالص التحية', 'مع التحية', 'تحياتي', 'شكرا', 'شكراً', 'בברכה', 'תודה', 'בכבוד רב',
  'با احترام', 'با سپاس', 'ممنون', 'سپاسگزارم',
].map((v) => v.replace(/,$/, ''));

const VALEDICTION_SET = new Set(VALEDICTIONS);

// Japanese and Chinese closing formulas end a letter the same way.
const CJK_VALEDICTION =
  /^(?:以上(?:、|,)?\s*)?(?:引き続き|今後とも|何卒)?\s*(?:どうぞ)?よろしくお願い(?:いた|致)?(?:します|申し上げます)[。.!！]?$|^(?:此致(?:\s*敬礼)?|谢谢|謝謝|多谢|多謝|感谢|感謝|祝好|祝安|顺祝(?:商祺|时祺|安好)|順祝(?:商祺|時祺|安好)|祝(?:工作)?顺利|祝(?:工作)?順利|祝您?(?:生活|一切)?(?:愉快|顺利|順利|安好)|敬上)[，,。.!！]?$/;

export function isSignOffLine(line: string): boolean {
  const t = line.trim();
  if (t === '' || t.length > 60) return false;
  if (CJK_VALEDICTION.test(t)) return true;
  const bare = t
    .toLowerCase()
    .replace(/[’`´]/g, "'")
    .replace(/\s+/g, ' ')
    .replace(/^[¡¿]/, '')
    .replace(/[\s,.!;:–—،-]+$/, '');
  if (VALEDICTION_SET.has(bare)) return true;
  // two joined: "Gracias y un abrazo", "Thanks and best wishes", "Danke und liebe Grüße"
  const joinedPair = /^(.+?)(?:,| (?:y|and|und|et|e|en|i|og|och|&)) (.+)$/u.exec(bare);
  if (joinedPair && VALEDICTION_SET.has(joinedPair[1]!) && VALEDICTION_SET.has(joinedPair[2]!)) return true;
  // "Thanks for keeping an eye out,", "Thank you again for your patience,": thanks for something, closing the letter
  if (/^(?:many )?(?:thanks|thank you)(?: again)? for [^.!?]{3,40}$/.test(bare) && /,$/.test(t)) return true;
  // "Herzliche Grüße aus Münster", "Saludos desde Madrid", "Greetings from Lisbon": a sign-off sent from a place
  const from = /^(.+?) (?:aus|from|desde|da|de|dalla|van|vanuit|från|z|ze) \p{Lu}[\p{L}'-]*(?: \p{Lu}?[\p{L}'-]+){0,2}$/u.exec(
    t.replace(/[\s,.!;:–—-]+$/, ''),
  );
  return from !== null && VALEDICTION_SET.has(from[1]!.toLowerCase().replace(/\s+/g, ' '));
}

const URL_OR_EMAIL = /@[\w-]+\.|https?:\/\/|\bwww\.|\b[\w-]+\.(?:com|org|net|io|co|app|dev|design|studio|agency|ai|de|fr|es|it|nl|se|no|dk|fi|pl|pt|br|uk|ie|au|ca|ch|at|be|jp|cn|in|eu)\b/i;
const PHONE = /(?:^|[\s:(])\+?\(?\d[\d\s().\/-]{6,}\d/;
const DISCLAIMER =
  /\bconfidential\b|\bprivileged\b|\bintended recipient\b|\bvertraulich|\bamtsgericht\b|\bregistergericht\b|\bhrb\s?\d|\bgeschäftsführ|\bregistered (?:office|in)\b|\bcompany (?:no|number|registration)\b|\bconfidencial|\briservat|\bconfidentiel|\bdisclaimer\b|\bvertrouwelijk|\bkvk\b|\bsiret\b|\bthink before you print\b|\bplease consider the environment\b/i;

/** Signing for a body: "for styret i Løvåsen Borettslag", "on behalf of the board", "i.A.", "p.p.", "pour le bureau". */
const ON_BEHALF_OF = /^(?:for (?:the |styret|bestyrelsen|styrelsen)|on behalf of\b|i\.\s?a\.|im auftrag\b|p\.\s?p\.|pour (?:le|la|l')\b|per (?:il|la|conto)\b|namens\b|en nombre de\b|em nome d)/i;

/** A postcode or a contact label: what an address-and-phone line of a signature carries. */
const ADDRESS_OR_LABEL = /\b\d{4,5}\b|\b\d{2}-\d{3}\b|\b(?:tel|tél|tlf|fon|phone|mob|mobile|cell|fax|handy|cel|telefone?|telefono|teléfono)\b/i;
/** A company's legal form closing a line: "B.V.", "N.V.", "Ltd.", "Inc.", "S.A.", "S.r.l.", "GmbH & Co. KG". */
const COMPANY_FORM_AT_END = /\b(?:b\.\s?v|n\.\s?v|s\.\s?a|s\.\s?l|s\.\s?p\.\s?a|s\.\s?r\.\s?l|s\.\s?a\.\s?s|inc|ltd|corp|co|llc|plc|pty|bros)\.$/i;

function words(line: string): number {
  return line.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

/** A line in a signature block: short, no sentence, no question. Contact lines (phone, web, mail) may be longer. */
function isSignatureLine(line: string): boolean {
  const t = line.trim();
  if (t === '') return true;
  if (URL_OR_EMAIL.test(t) || PHONE.test(t)) {
    // "T +49 30 1234567 | www.example.de", not "Don't want these emails? Unsubscribe: https://..."
    const prose = t
      .replace(/\([^)]*\)/g, ' ')
      .replace(/\S*(?:@|:\/\/|www\.)\S*/g, ' ')
      .replace(/\S+\.(?:com|org|net|io|co|app|dev|design|de|fr|es|it|nl|se|uk|ie|au|jp|br)\b\S*/gi, ' ')
      .replace(/\+?\(?\d[\d\s().\/-]{6,}\d/g, ' ');
    // an address with its phone ("Corso Italia 88, 56125 Pisa – tel. 050 555 4471") says more than four words
    const wordsAllowed = ADDRESS_OR_LABEL.test(prose) ? 8 : 4;
    return t.length <= 120 && words(prose) <= wordsAllowed && !/[?？]|\p{L}{2}[.!]\s+\p{Lu}/u.test(prose);
  }
  if (t.length > 70 || words(t) > 8) return false;
  if (/[?？]$/.test(t)) return false;
  // a sentence: starts lowercase (in a cased script; but a title of one or two words may be lowercase, as Nordic
  // languages write "styreleder", "daglig leder") or ends with a full stop after several words (a company's
  // legal form, "Tulp Data B.V.", "Acme Ltd.", is not a full stop)
  if (/^\p{Ll}/u.test(t) && !/^\p{Ll}+(?: \p{Ll}+)?$/u.test(t)) return false;
  if (/[.!。！]$/.test(t) && !COMPANY_FORM_AT_END.test(t) && words(t) > 4) return false;
  return true;
}

/** The line a signature block starts with: a name (a person's or a team's), short, no sentence punctuation. */
function isNameLine(line: string): boolean {
  const t = line.trim();
  if (t === '' || t.length > 60 || words(t) > 6) return false;
  if (/^\p{Ll}/u.test(t) && !ON_BEHALF_OF.test(t)) return false;
  if (/[?？:：!！]$/.test(t)) return false;
  if (/[.。]$/.test(t) && words(t) > 3) return false;
  return !URL_OR_EMAIL.test(t) && !PHONE.test(t);
}

/** Lines from `from` to the end form a signature block: a name line, at least one more line, all signature-like. */
function isSignatureBlock(lines: string[], from: number): boolean {
  const rest = lines.slice(from);
  const first = rest.findIndex((l) => l.trim() !== '');
  if (first < 0 || !isNameLine(rest[first] ?? '')) return false;
  // legal notices may close the block as paragraphs of their own, whatever their length
  let end = rest.length;
  let hasNotice = false;
  for (;;) {
    while (end > first && (rest[end - 1] ?? '').trim() === '') end--;
    let start = end;
    while (start > first && (rest[start - 1] ?? '').trim() !== '') start--;
    const paragraph = rest.slice(start, end);
    if (start <= first || !paragraph.some((l) => DISCLAIMER.test(l))) break;
    end = start;
    hasNotice = true;
  }
  const body = rest.slice(first, end).filter((l) => l.trim() !== '');
  if (body.length < 2 && !hasNotice) return false;
  if (body.length > 10) return false;
  return body.slice(1).every(isSignatureLine);
}

function hasContentBefore(lines: string[], index: number): boolean {
  return lines.slice(0, index).some((l) => l.trim() !== '');
}

/** Ways the sender's display name shows up as the first line of a signature. */
function senderNameForms(senderName: string | null | undefined): string[] {
  if (!senderName) return [];
  const cleaned = senderName
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\s+(?:at|from|@|via|von|de|di|da|van)\s+.*$/i, '')
    .replace(/[“”"']/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (cleaned === '' || cleaned.length > 60 || words(cleaned) > 5) return [];
  const forms = new Set<string>([cleaned.toLowerCase()]);
  const firstName = cleaned.split(' ')[0] ?? '';
  if (/^\p{L}{2,}$/u.test(firstName)) forms.add(firstName.toLowerCase());
  return [...forms];
}

function startsWithSenderName(line: string, forms: string[]): boolean {
  const t = line.trim().toLowerCase();
  return forms.some((f) => t === f || t.startsWith(`${f},`) || t.startsWith(`${f} |`) || t.startsWith(`${f} -`) || t.startsWith(`${f} –`));
}

const MAX_SIGNATURE_LINES = 18;

/**
 * The index in `lines` where an undelimited signature starts, or null. `lines` is the new content (quotes
 * already removed), in order.
 */
function findUndelimitedSignature(lines: string[], senderName?: string | null): number | null {
  let last = lines.length - 1;
  while (last >= 0 && (lines[last] ?? '').trim() === '') last--;
  if (last < 1) return null;
  const lowest = Math.max(0, last - MAX_SIGNATURE_LINES);

  // a sign-off line, then a signature block; the earliest one that holds wins (the block then includes later
  // lines that merely look like sign-offs, such as a team name "Thanks")
  let found: number | null = null;
  for (let i = last - 1; i >= lowest; i--) {
    if (isSignOffLine(lines[i] ?? '') && hasContentBefore(lines, i) && isSignatureBlock(lines, i + 1)) found = i;
  }
  if (found !== null) return found;

  // no sign-off: a closing paragraph that starts with the sender's name
  const forms = senderNameForms(senderName);
  if (forms.length === 0) return null;
  for (let i = lowest; i < last; i++) {
    const prevBlank = i > 0 && (lines[i - 1] ?? '').trim() === '';
    if (prevBlank && startsWithSenderName(lines[i] ?? '', forms) && hasContentBefore(lines, i) && isSignatureBlock(lines, i)) {
      return i;
    }
  }
  return null;
}

/** A rule line: three or more of one of _ - = ~ * (a separator help desks and meeting invitations draw). */
const RULE_LINE = /^\s*([_\-=~*])\1{2,}\s*$/;
/** A help desk's or CRM's reference: a thread token (Salesforce's ref:_…:ref, Zendesk's [ABCD12-EF34]) or its reply marker. */
const THREAD_TOKEN = /\bref:_[\w.]+:ref\b|\[[A-Z0-9]{4,}-[A-Z0-9]{4,}\]|^##-/;
/**
 * "Case number: 00123456", "Ticket #20931", "Vorgang 4711", "Meeting ID: 812 345 6789": a case's, ticket's
 * or meeting's label, then its number.
 */
const REFERENCE_LINE =
  /^(?:case|ticket|request|incident|reference|caso|chamado|protocolo|incidencia|solicitud|vorgang|anfrage|ticketnummer|dossier|demande|pratica|richiesta|segnalazione|melding|ärende|sag|sak|meeting id|meeting-id|besprechungs-id|passcode|kenncode|webinar id)\b[\p{L} .]{0,20}?(?:[:：#]|n[ºo°]\.?)?\s*#?\s*[\w-]*\d/iu;

const isReference = (line: string) => THREAD_TOKEN.test(line.trim()) || REFERENCE_LINE.test(line.trim());

/**
 * Lines from `from` to the end are a machine footer: a rule line, then something no signature holds (a
 * sentence, a reference); or a short paragraph of references only. A rule with only signature lines below
 * it ("----", then a company and a phone), or a legal notice below it, is part of the signature.
 */
function isMachineFooter(lines: string[], from: number): boolean {
  const rest = lines.slice(from).filter((l) => l.trim() !== '');
  if (rest.length === 0 || rest.length > 40) return false;
  if (RULE_LINE.test(rest[0] ?? '')) {
    const below = rest.slice(1).filter((l) => !RULE_LINE.test(l));
    return !below.some((l) => DISCLAIMER.test(l)) && below.some((l) => isReference(l) || !isSignatureLine(l));
  }
  return rest.length <= 4 && rest.every(isReference);
}

/**
 * Where an undelimited signature is in `lines` (the new content, quotes already removed): `[start, end)`,
 * or null. With `aboveFooter`, a signature with a machine footer below it (a meeting's join block below a
 * rule, a help desk's ticket reference or status, a conversation history below a dashed rule) is looked for
 * first: the footer starts at a rule line or a paragraph of references among the last lines, what is above
 * it must hold a signature by the same conservative test, and the footer stays where it is (`end` is where
 * it starts). Otherwise the signature runs to the end.
 */
export function findSignature(
  lines: string[],
  senderName: string | null | undefined,
  { aboveFooter }: { aboveFooter: boolean },
): { start: number; end: number } | null {
  const lowest = Math.max(1, lines.length - 60);
  for (let footer = lines.length - 1; aboveFooter && footer >= lowest; footer--) {
    const line = lines[footer] ?? '';
    const startsParagraph = line.trim() !== '' && (lines[footer - 1] ?? '').trim() === '';
    if (!RULE_LINE.test(line) && !startsParagraph) continue;
    if (!isMachineFooter(lines, footer)) continue;
    let end = footer;
    while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
    const start = findUndelimitedSignature(lines.slice(0, end), senderName);
    if (start !== null) return { start, end };
  }
  const start = findUndelimitedSignature(lines, senderName);
  return start === null ? null : { start, end: lines.length };
}
