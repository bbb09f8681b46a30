// Deterministic mail: a thread plan is cheap (subject, people, dates, labels) so a 10,000
// thread mailbox plans in milliseconds; the MIME of a thread is rendered on first read.
import { Prng, seedFrom } from '../prng';
import {
  attachmentPart,
  encodeHeaderText,
  formatAddress,
  rfc2822Date,
  serializeMessage,
  textPart,
  type LeafNode,
  type Mailbox,
  type MimeNode,
} from './mime';

export type MailKind = 'newsletter' | 'receipt' | 'security' | 'invite' | 'support' | 'personal';
export type Person = Required<Mailbox>;
export type Category = 'CATEGORY_PERSONAL' | 'CATEGORY_PROMOTIONS' | 'CATEGORY_UPDATES' | 'CATEGORY_SOCIAL' | 'CATEGORY_FORUMS';

export interface ThreadPlan {
  kind: MailKind;
  seed: number;
  /** Subject of the first message (replies add "Re: "). */
  subject: string;
  /** The other party: publication, vendor, agent or friend. */
  counterpart: Person;
  /** Per message: sent by the mailbox owner? */
  fromOwner: boolean[];
  /** Per message, epoch ms, ascending. */
  dates: number[];
  category: Category;
  important: boolean;
  charset: 'UTF-8' | 'ISO-8859-1' | 'windows-1252';
  /** Message-ID header values (without angle brackets). */
  messageIds: string[];
}

const FIRST = ['Alice', 'Ben', 'Chloé', 'Daniel', 'Elena', 'François', 'Grace', 'Hiro', 'Isabel', 'Jonas', 'Kavya', 'Liam', 'Maya', 'Noah', 'Olivia', 'Priya', 'Quentin', 'Renée', 'Sofia', 'Tomás', 'Uma', 'Victor', 'Wen', 'Xavier', 'Yara', 'Zoë', 'Björn', 'José', 'Mei', 'Rahul', 'Søren', 'Ana'];
const LAST = ['Anderson', 'Bauer', 'Chen', 'Dubois', 'Evans', 'Fischer', 'García', 'Hughes', 'Ito', 'Jensen', 'Kowalski', 'Lefèvre', 'Müller', 'Nakamura', 'Okafor', 'Patel', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Usman', 'Varga', 'Walsh', 'Young', 'Zhang', 'Ødegaard', 'Martín', 'Novak'];
const PERSONAL_DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.fr', 'gmx.de', 'icloud.com', 'proton.me', 'hotmail.co.uk', 'web.de'];

/** The organisations that send mail: publications send newsletters, vendors receipts, invites and support replies. */
interface Org {
  role: 'publication' | 'vendor';
  name: string;
  domain: string;
}
const ORGS: Org[] = [
  { role: 'publication', name: 'The Stack Weekly', domain: 'stackweekly.dev' },
  { role: 'publication', name: 'Morning Ledger', domain: 'morningledger.news' },
  { role: 'publication', name: 'Trailhead Outdoor Co.', domain: 'trailhead-outdoor.shop' },
  { role: 'publication', name: 'Hacker Dispatch', domain: 'hackerdispatch.io' },
  { role: 'publication', name: 'Bloom & Barrow', domain: 'bloomandbarrow.co.uk' },
  { role: 'publication', name: 'Product Notes', domain: 'productnotes.substack.example' },
  { role: 'publication', name: 'Cartwheel Deals', domain: 'cartwheel-deals.com' },
  { role: 'publication', name: 'Le Petit Gourmet', domain: 'lepetitgourmet.fr' },
  { role: 'vendor', name: 'Northwind Cloud', domain: 'northwindcloud.io' },
  { role: 'vendor', name: 'Fabrikam Air', domain: 'fabrikam-air.com' },
  { role: 'vendor', name: 'Contoso Books', domain: 'contosobooks.com' },
  { role: 'vendor', name: 'Lumen Energy', domain: 'lumen-energy.de' },
  { role: 'vendor', name: 'Tailspin Rides', domain: 'tailspinrides.app' },
  { role: 'vendor', name: 'Wingtip Hosting', domain: 'wingtiphosting.net' },
];
const PUBLICATIONS = ORGS.filter((o) => o.role === 'publication');
const VENDORS = ORGS.filter((o) => o.role === 'vendor');
const SECURITY_ALERTS: { sender: Person; subject: string }[] = [
  { sender: { name: 'Google', email: 'no-reply@accounts.google.com' }, subject: 'Security alert' },
  { sender: { name: 'GitHub', email: 'noreply@github.com' }, subject: '[GitHub] A new SSH authentication public key was added to your account' },
  { sender: { name: 'Northwind Cloud Security', email: 'security@northwindcloud.io' }, subject: 'Unusual sign-in attempt blocked' },
];
const HEADLINES = [
  'Five patterns for idempotent webhooks',
  'Why your cron runs twice (and what to do about it)',
  'The summer sale starts now: up to 40% off',
  'Postgres 17: what changed for queues',
  'Our favourite trails this autumn',
  'A field guide to OAuth token refresh',
  'New arrivals you might like',
  'Interview: building a sync engine that never loses data',
  'Last chance: free shipping ends tonight',
  'Recette : la tarte tatin de Mamie',
];
const ITEMS = [
  'Leases, not locks: scheduling work safely',
  'Backoff with jitter, explained with charts',
  'Why SKIP LOCKED is the queue you already have',
  'Gear review: the ultralight tent we keep recommending',
  'How we cut cold starts by 60%',
  'Reader mailbag: exactly-once is a lie, or is it?',
  'Three small habits for calmer on-call weeks',
  'The best café in Lyon, according to you',
];
const SUPPORT_ISSUES = [
  'Unable to export invoices as CSV',
  'Two-factor codes not arriving',
  'Charged twice for the March invoice',
  'API returns 502 during nightly sync',
  'Cannot change the billing e-mail address',
  'Webhook deliveries delayed by hours',
];
const MEETINGS = ['Q3 planning', 'Weekly sync', 'Design review: sync engine', 'Coffee chat', '1:1', 'Customer call — Contoso', 'Retro', 'Hiring debrief'];
const PERSONAL_TOPICS: Record<ThreadPlan['charset'], string[]> = {
  'UTF-8': ['Dinner on Friday? 🍝', 'Photos from the trip', 'Quick question about the résumé', 'Moving day — need a hand?', 'Birthday plans for Zoë 🎂', 'Book recommendation'],
  'ISO-8859-1': ['Café à Paris ce week-end ?', 'Überraschung für Mama', 'Les photos de la fête', 'Cumpleaños de José', 'Répétition jeudi soir'],
  'windows-1252': ['“Quick” favour — the keys', 'Tickets: €45 each — in?', 'Re-reading “Le Petit Prince”…', 'Flat viewing – Saturday'],
};
const PERSONAL_LINES: Record<ThreadPlan['charset'], string[]> = {
  'UTF-8': [
    'Are you free on Friday evening? We could try that new place near the station.',
    'I finally sorted the photos — there are some great ones of the lake.',
    'Let me know what you think, no rush at all 🙂',
    'Zoë says hi! She is already planning the cake.',
    'Could you have a quick look before I send it off?',
    'I can bring the car on Saturday morning, around 9.',
  ],
  'ISO-8859-1': [
    'On se retrouve au café à côté de la gare, vers 18h ?',
    'Ich habe die Überraschung für Mama schon bestellt, sie wird sich freuen.',
    'Les photos de la fête sont prêtes, je te les envoie ce soir.',
    '¿Vienes al cumpleaños de José el sábado? Habrá paella.',
    'N\'oublie pas la répétition jeudi : on commence à 19h précises.',
    'Grüße aus München, bis bald!',
  ],
  'windows-1252': [
    'Could you drop the keys at mine — “whenever suits”, honestly.',
    'Tickets are €45 each… still worth it, I think.',
    'I’ve been re-reading “Le Petit Prince” – it’s better than I remembered.',
    'The flat viewing is on Saturday – 10:30 sharp — don’t be late!',
    'Let’s split it: €22.50 each.',
  ],
};
const AGENTS = ['Maya Chen', 'Tom Becker', 'Lucía Romero', 'Sam Okoro', 'Ines Laurent'];
const PDF_STUB = '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n';

function slug(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ø/gi, 'o')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.|\.$/g, '');
}

export function makePerson(prng: Prng, domain?: string): Person {
  const first = prng.pick(FIRST);
  const last = prng.pick(LAST);
  const d = domain ?? prng.pick(PERSONAL_DOMAINS);
  const local = prng.bool(0.5) ? `${slug(first)}.${slug(last)}` : `${slug(first)}${prng.int(1, 99)}`;
  return { name: `${first} ${last}`, email: `${local}@${d}` };
}

/** The mailbox owner for a sandbox user. */
export function makeOwner(seed: number, userId: string): Person {
  const prng = new Prng(seedFrom(seed, 'owner', userId));
  const first = prng.pick(FIRST);
  const last = prng.pick(LAST);
  return { name: `${first} ${last}`, email: `${slug(first)}.${slug(last)}.${slug(userId).slice(0, 24) || 'user'}@gmail.com` };
}

const DAY = 86_400_000;

/**
 * Plans a thread whose last message is at `lastAt`. Cheap: a few PRNG draws, no MIME.
 */
export function planThread(seed: number, owner: Person, lastAt: number): ThreadPlan {
  const prng = new Prng(seed);
  const kind = prng.weighted<MailKind>([
    ['newsletter', 22],
    ['receipt', 14],
    ['security', 8],
    ['invite', 10],
    ['support', 18],
    ['personal', 28],
  ]);
  let subject: string;
  let counterpart: Person;
  let count = 1;
  let category: Category = 'CATEGORY_UPDATES';
  let important = false;
  let charset: ThreadPlan['charset'] = 'UTF-8';
  let ownerFirst = false;
  switch (kind) {
    case 'newsletter': {
      const pub = prng.pick(PUBLICATIONS);
      counterpart = { name: pub.name, email: `${prng.pick(['news', 'hello', 'newsletter'])}@${pub.domain}` };
      subject = prng.bool(0.5) ? `${pub.name}: ${prng.pick(HEADLINES)}` : prng.pick(HEADLINES);
      category = 'CATEGORY_PROMOTIONS';
      break;
    }
    case 'receipt': {
      const v = prng.pick(VENDORS);
      counterpart = { name: v.name, email: `billing@${v.domain}` };
      const n = prng.int(10000, 99999);
      subject = prng.pick([`Your receipt from ${v.name} #${n}`, `Invoice INV-${n} from ${v.name}`, `Your ${v.name} order #${n} has shipped`]);
      count = prng.bool(0.15) ? 2 : 1;
      break;
    }
    case 'security': {
      const alert = prng.pick(SECURITY_ALERTS);
      counterpart = { ...alert.sender };
      subject = alert.subject;
      important = true;
      break;
    }
    case 'invite': {
      const org = prng.pick(VENDORS);
      counterpart = makePerson(prng, org.domain);
      const start = eventStart(seed, lastAt);
      subject = `Invitation: ${prng.pick(MEETINGS)} @ ${inviteDate(start)} (${owner.email})`;
      category = 'CATEGORY_PERSONAL';
      important = prng.bool(0.6);
      break;
    }
    case 'support': {
      const v = prng.pick(VENDORS);
      counterpart = { name: `${prng.pick(AGENTS)} (${v.name} Support)`, email: `support@${v.domain}` };
      subject = `[#${prng.int(100000, 999999)}] ${prng.pick(SUPPORT_ISSUES)}`;
      count = prng.int(2, 5);
      ownerFirst = prng.bool(0.8);
      category = 'CATEGORY_PERSONAL';
      important = prng.bool(0.5);
      break;
    }
    default: {
      counterpart = makePerson(prng);
      charset = prng.weighted<ThreadPlan['charset']>([
        ['UTF-8', 40],
        ['ISO-8859-1', 30],
        ['windows-1252', 30],
      ]);
      subject = prng.pick(PERSONAL_TOPICS[charset]);
      count = prng.weighted([
        [1, 35],
        [2, 30],
        [3, 20],
        [4, 15],
      ]);
      ownerFirst = prng.bool(0.25);
      category = 'CATEGORY_PERSONAL';
      important = prng.bool(0.3);
    }
  }
  const fromOwner: boolean[] = [];
  for (let i = 0; i < count; i++) fromOwner.push(kind === 'support' || kind === 'personal' ? (i % 2 === 0) === ownerFirst : false);
  const dates: number[] = new Array(count);
  let t = lastAt;
  for (let i = count - 1; i >= 0; i--) {
    dates[i] = t;
    t -= prng.int(4 * 60_000, 2 * DAY);
  }
  const messageIds = fromOwner.map((own, i) => {
    const r = new Prng(seedFrom(seed, 'mid', i));
    return own
      ? `CA+${r.bytes(24).toString('base64').replace(/[+/=]/g, 'x')}@mail.gmail.com`
      : `${r.hex(8)}.${r.hex(12)}@${counterpart.email.split('@')[1]}`;
  });
  return { kind, seed, subject, counterpart, fromOwner, dates, category, important, charset, messageIds };
}

function eventStart(seed: number, sentAt: number): number {
  const prng = new Prng(seedFrom(seed, 'event'));
  const day = Math.floor(sentAt / DAY) * DAY + prng.int(1, 14) * DAY;
  return day + prng.int(8, 17) * 3_600_000 + prng.pick([0, 30]) * 60_000;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function inviteDate(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const hh = (x: number) => `${x % 12 === 0 ? 12 : x % 12}${d.getUTCMinutes() ? `:${String(d.getUTCMinutes()).padStart(2, '0')}` : ''}${x < 12 ? 'am' : 'pm'}`;
  return `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${hh(h)} - ${hh(h + 1)} (UTC)`;
}

function gmailAttribution(ms: number, who: Person): string {
  const d = new Date(ms);
  const t = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return `On ${WEEKDAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} at ${t}, ${who.name} <${who.email}> wrote:`;
}

function quote(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `> ${l}` : '>'))
    .join('\n');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function textToHtml(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let inQuote = false;
  for (const line of lines) {
    const quoted = line.startsWith('>');
    if (quoted && !inQuote) {
      out.push('<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">');
      inQuote = true;
    } else if (!quoted && inQuote) {
      out.push('</blockquote>');
      inQuote = false;
    }
    const content = quoted ? line.replace(/^>\s?/, '') : line;
    out.push(content ? `${escapeHtml(content)}<br>` : '<br>');
  }
  if (inQuote) out.push('</blockquote>');
  return `<div dir="ltr">${out.join('\n')}</div>`;
}

function firstName(p: Person): string {
  return p.name.split(' ')[0] ?? p.name;
}

interface Rendered {
  root: MimeNode;
  /** The visible text, used when a later message quotes this one. */
  text: string;
  extraHeaders: Array<[string, string]>;
}

function boundary(prng: Prng): string {
  return `000000000000${prng.hex(16)}`;
}

function alternative(prng: Prng, text: string, html: string, charset = 'UTF-8'): MimeNode {
  return {
    kind: 'multipart',
    subtype: 'alternative',
    boundary: boundary(prng),
    parts: [textPart('text/plain', text, charset, 'quoted-printable'), textPart('text/html', html, charset, 'quoted-printable')],
  };
}

function renderNewsletter(prng: Prng, plan: ThreadPlan, owner: Person): Rendered {
  const domain = plan.counterpart.email.split('@')[1] as string;
  const issue = prng.int(12, 480);
  const token = prng.hex(24);
  const items = [prng.pick(ITEMS), prng.pick(ITEMS), prng.pick(ITEMS)];
  const headline = plan.subject.replace(/^[^:]+: /, '');
  const text = [
    `${plan.counterpart.name} — Issue #${issue}`,
    '',
    `Hi ${firstName(owner)},`,
    '',
    headline,
    '',
    ...items.flatMap((it, i) => [`${i + 1}. ${it}`, `   https://${domain}/p/${slug(it)}`, '']),
    `Read online: https://${domain}/issues/${issue}`,
    '',
    `You are receiving this because you subscribed to ${plan.counterpart.name}.`,
    `Unsubscribe: https://${domain}/unsubscribe?u=${token}`,
  ].join('\n');
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(plan.subject)}</title></head><body style="font-family:Helvetica,Arial,sans-serif">
<table role="presentation" width="100%"><tr><td>
<h1 style="font-size:22px">${escapeHtml(headline)}</h1>
<p>Hi ${escapeHtml(firstName(owner))},</p>
<ol>${items.map((it) => `<li><a href="https://${domain}/p/${slug(it)}?utm_source=newsletter">${escapeHtml(it)}</a></li>`).join('')}</ol>
<p><a href="https://${domain}/issues/${issue}">Read online</a></p>
<p style="color:#888;font-size:11px">You are receiving this because you subscribed to ${escapeHtml(plan.counterpart.name)}.
<a href="https://${domain}/unsubscribe?u=${token}">Unsubscribe</a></p>
<img src="https://${domain}/open.gif?u=${token}" width="1" height="1" alt="">
</td></tr></table></body></html>`;
  const htmlOnly = prng.bool(0.3);
  return {
    root: htmlOnly ? textPart('text/html', html, 'UTF-8', 'base64') : alternative(prng, text, html),
    text,
    extraHeaders: [
      ['List-Unsubscribe', `<mailto:unsubscribe@${domain}?subject=unsubscribe-${token}>, <https://${domain}/unsubscribe?u=${token}>`],
      ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
      ['List-Id', `${encodeHeaderText(plan.counterpart.name)} <news.${domain}>`],
      ['Precedence', 'bulk'],
      ['Feedback-ID', `${issue}:newsletter:${domain}`],
    ],
  };
}

function renderReceipt(prng: Prng, plan: ThreadPlan, owner: Person, index: number): Rendered {
  const vendor = plan.counterpart.name;
  const domain = plan.counterpart.email.split('@')[1] as string;
  const number = /#(\d+)|INV-(\d+)/.exec(plan.subject);
  const ref = number ? (number[1] ?? number[2]) : String(prng.int(10000, 99999));
  const amount = (prng.int(500, 49999) / 100).toFixed(2);
  const currency = prng.pick(['€', '$', '£']);
  const lines = index === 0
    ? [
        `Hi ${firstName(owner)},`,
        '',
        `Thanks for your payment to ${vendor}.`,
        '',
        `Invoice:   INV-${ref}`,
        `Amount:    ${currency}${amount}`,
        `Paid with: Visa •••• ${prng.int(1000, 9999)}`,
        '',
        'Your invoice is attached as a PDF.',
        '',
        `Questions? Reply to this e-mail or visit https://${domain}/billing`,
      ]
    : [`Hi ${firstName(owner)},`, '', `A reminder that a copy of invoice INV-${ref} is available in your account.`, '', `— The ${vendor} billing team`];
  const text = lines.join('\n');
  const html = `<html><body><h2>${escapeHtml(vendor)}</h2><table>${lines
    .filter(Boolean)
    .map((l) => `<tr><td>${escapeHtml(l)}</td></tr>`)
    .join('')}</table></body></html>`;
  if (index > 0) return { root: alternative(prng, text, html), text, extraHeaders: [] };
  const pdf = Buffer.concat([Buffer.from(`${PDF_STUB}% INV-${ref} ${amount}\n`, 'latin1'), prng.bytes(prng.int(600, 2400)), Buffer.from('\n%%EOF\n', 'latin1')]);
  return {
    root: {
      kind: 'multipart',
      subtype: 'mixed',
      boundary: boundary(prng),
      parts: [alternative(prng, text, html), attachmentPart('application/pdf', `Invoice-INV-${ref}.pdf`, pdf)],
    },
    text,
    extraHeaders: [['Auto-Submitted', 'auto-generated']],
  };
}

function renderSecurity(prng: Prng, plan: ThreadPlan, owner: Person, sentAt: number): Rendered {
  const device = prng.pick(['Windows', 'Mac', 'iPhone', 'Linux', 'Android']);
  const city = prng.pick(['Lisbon, Portugal', 'Berlin, Germany', 'Austin, TX, USA', 'Lyon, France', 'Osaka, Japan']);
  const when = new Date(sentAt).toUTCString();
  const text = `${plan.subject}\n\nA new sign-in on ${device} (${city}) for ${owner.email} at ${when}.\nIf this was you, you don't need to do anything. If not, we'll help you secure your account.`;
  const html = `<!DOCTYPE html><html lang="en"><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body>
<div style="border:1px solid #dadce0;border-radius:8px;padding:40px 20px;max-width:516px">
<div style="font-size:24px">${escapeHtml(plan.subject)}</div>
<div style="font-size:14px">A new sign-in on <b>${device}</b> (${escapeHtml(city)})<br><a style="color:#1a73e8">${escapeHtml(owner.email)}</a></div>
<div style="font-size:14px;padding-top:20px">We noticed a new sign-in to your account on ${when}. If this was you, you don&#39;t need to do anything. If not, we&#39;ll help you secure your account.</div>
<div style="padding-top:32px;text-align:center"><a href="https://${plan.counterpart.email.split('@')[1]}/security?activity=${prng.hex(20)}" style="background:#4184f3;color:#fff;padding:10px 24px;border-radius:5px">Check activity</a></div>
</div></body></html>`;
  return { root: textPart('text/html', html, 'UTF-8', 'quoted-printable'), text, extraHeaders: [['Auto-Submitted', 'auto-generated']] };
}

function renderInvite(prng: Prng, plan: ThreadPlan, owner: Person, sentAt: number): Rendered {
  const organizer = plan.counterpart;
  const start = eventStart(plan.seed, sentAt);
  const end = start + 3_600_000;
  const title = (/^Invitation: (.*) @ /.exec(plan.subject)?.[1] ?? 'Meeting') as string;
  const uid = `${prng.hex(26)}@google.com`;
  const ics = (dt: number) => new Date(dt).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const meet = `https://meet.google.com/${prng.hex(3)}-${prng.hex(4)}-${prng.hex(3)}`;
  const calendar = [
    'BEGIN:VCALENDAR',
    'PRODID:-//Google Inc//Google Calendar 70.9054//EN',
    'VERSION:2.0',
    'CALSCALE:GREGORIAN',
    'METHOD:REQUEST',
    'BEGIN:VEVENT',
    `DTSTART:${ics(start)}`,
    `DTEND:${ics(end)}`,
    `DTSTAMP:${ics(sentAt)}`,
    `ORGANIZER;CN=${organizer.name}:mailto:${organizer.email}`,
    `UID:${uid}`,
    `ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE;CN=${organizer.name};X-NUM-GUESTS=0:mailto:${organizer.email}`,
    `ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=${owner.email};X-NUM-GUESTS=0:mailto:${owner.email}`,
    `X-GOOGLE-CONFERENCE:${meet}`,
    `CREATED:${ics(sentAt)}`,
    `DESCRIPTION:Agenda to follow.\\n\\nJoin with Google Meet: ${meet}`,
    `LAST-MODIFIED:${ics(sentAt)}`,
    'LOCATION:',
    'SEQUENCE:0',
    'STATUS:CONFIRMED',
    `SUMMARY:${title}`,
    'TRANSP:OPAQUE',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\n');
  const text = `${organizer.name} has invited you to the following event.\n\n${title}\n${inviteDate(start)}\n\nJoin with Google Meet\n${meet}\n\nInvitation from Google Calendar: https://calendar.google.com/calendar/\n\nYou are receiving this email because you are an attendee on the event.`;
  const html = `<html><body><div itemscope itemtype="http://schema.org/Event"><h2 itemprop="name">${escapeHtml(title)}</h2><p>${escapeHtml(inviteDate(start))}</p><p><a href="${meet}">Join with Google Meet</a></p><p>${escapeHtml(organizer.name)} has invited you.</p></div></body></html>`;
  const calPart: LeafNode = textPart('text/calendar', calendar, 'UTF-8', '7bit', { method: 'REQUEST' });
  const icsBytes = calPart.content;
  return {
    root: {
      kind: 'multipart',
      subtype: 'mixed',
      boundary: boundary(prng),
      parts: [
        {
          kind: 'multipart',
          subtype: 'alternative',
          boundary: boundary(prng),
          parts: [textPart('text/plain', text, 'UTF-8', 'quoted-printable'), textPart('text/html', html, 'UTF-8', 'quoted-printable'), calPart],
        },
        attachmentPart('application/ics', 'invite.ics', icsBytes),
      ],
    },
    text,
    extraHeaders: [['Sender', 'Google Calendar <calendar-notification@google.com>']],
  };
}

function renderConversation(prng: Prng, plan: ThreadPlan, owner: Person, index: number, previous: string | undefined): Rendered {
  const own = plan.fromOwner[index] as boolean;
  const me = own ? owner : plan.counterpart;
  const them = own ? plan.counterpart : owner;
  const prevAuthor = index > 0 ? (plan.fromOwner[index - 1] ? owner : plan.counterpart) : undefined;
  const charset = plan.kind === 'personal' ? plan.charset : 'UTF-8';
  let body: string;
  if (plan.kind === 'support') {
    const issue = plan.subject.replace(/^\[#\d+\] /, '');
    if (own) {
      body = index === 0
        ? `Hello,\n\n${issue}. It started ${prng.pick(['yesterday', 'this morning', 'after the last update'])} and happens every time.\nAccount: ${owner.email}\n\nThanks,\n${firstName(owner)}`
        : `Hi ${firstName(plan.counterpart)},\n\n${prng.pick(['Thanks, that worked.', 'Still happening, unfortunately.', 'I tried that, same result.'])} ${prng.pick(['Anything else I can send you?', 'Logs attached in the previous mail.', 'Happy to jump on a call.'])}\n\n${firstName(owner)}`;
    } else {
      const agent = plan.counterpart.name.replace(/ \(.*\)$/, '');
      const company = /\((.*) Support\)/.exec(plan.counterpart.name)?.[1] ?? 'Support';
      body = `Hi ${firstName(owner)},\n\n${prng.pick([
        'Thanks for reaching out. I have escalated this to our engineering team.',
        'Sorry for the trouble! Could you try clearing the cache and signing in again?',
        'Good news: a fix has been deployed. Could you confirm it works on your side?',
        'I can see the duplicate charge; a refund is on its way (3–5 business days).',
      ])}\n\nBest regards,\n\n-- \n${agent}\nCustomer Support, ${company}\nhttps://help.${plan.counterpart.email.split('@')[1]}`;
    }
  } else {
    const lines = PERSONAL_LINES[plan.charset];
    const n = prng.int(1, 3);
    const picked: string[] = [];
    for (let i = 0; i < n; i++) picked.push(prng.pick(lines));
    const greet = prng.pick(['Hi', 'Hey', 'Salut', 'Hallo', 'Hola']);
    const sign = prng.weighted<string>([
      [`${firstName(me)}`, 4],
      [`-- \n${me.name}`, 3],
      ['Sent from my iPhone', 2],
    ]);
    body = `${greet} ${firstName(them)},\n\n${picked.join('\n\n')}\n\n${sign}`;
  }
  const text = previous !== undefined && prevAuthor ? `${body}\n\n${gmailAttribution(plan.dates[index - 1] as number, prevAuthor)}\n${quote(previous)}` : body;
  let root: MimeNode;
  if (plan.kind === 'support' && !own) {
    root = alternative(prng, text, textToHtml(text));
  } else {
    root = textPart('text/plain', text, charset, charset === 'UTF-8' && prng.bool(0.3) ? 'base64' : 'quoted-printable', prng.bool(0.3) ? { format: 'flowed' } : {});
  }
  if (plan.kind === 'personal' && index === 0 && new Prng(seedFrom(plan.seed, 'photo')).bool(0.25)) {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]), prng.bytes(prng.int(1500, 4000)), Buffer.from([0xff, 0xd9])]);
    root = { kind: 'multipart', subtype: 'mixed', boundary: boundary(prng), parts: [root, attachmentPart('image/jpeg', `IMG_${prng.int(1000, 9999)}.jpg`, jpeg)] };
  }
  return { root, text: body, extraHeaders: [] };
}

/** The raw RFC 5322 bytes of every message of a thread, oldest first. */
export function renderThread(plan: ThreadPlan, owner: Person): Buffer[] {
  const out: Buffer[] = [];
  let previousText: string | undefined;
  const tz = new Prng(seedFrom(plan.seed, 'tz')).pick([0, 60, 120, -300, -420, 330]);
  for (let i = 0; i < plan.dates.length; i++) {
    const prng = new Prng(seedFrom(plan.seed, 'msg', i));
    const sentAt = plan.dates[i] as number;
    const own = plan.fromOwner[i] as boolean;
    let rendered: Rendered;
    switch (plan.kind) {
      case 'newsletter':
        rendered = renderNewsletter(prng, plan, owner);
        break;
      case 'receipt':
        rendered = renderReceipt(prng, plan, owner, i);
        break;
      case 'security':
        rendered = renderSecurity(prng, plan, owner, sentAt);
        break;
      case 'invite':
        rendered = renderInvite(prng, plan, owner, sentAt);
        break;
      default:
        rendered = renderConversation(prng, plan, owner, i, previousText);
    }
    previousText = rendered.text;
    const from = own ? owner : plan.counterpart;
    const to = own ? plan.counterpart : owner;
    const subjectText = i === 0 || plan.kind === 'receipt' ? plan.subject : `Re: ${plan.subject}`;
    const headerCharset = plan.kind === 'personal' && plan.charset !== 'UTF-8' ? plan.charset : 'UTF-8';
    const headers: Array<[string, string]> = [];
    if (!own) {
      headers.push(['Delivered-To', owner.email]);
      const host = `mail-${prng.hex(6)}.${from.email.split('@')[1]}`;
      headers.push([
        'Received',
        `from ${host} (${host} [203.0.113.${prng.int(1, 254)}]) by mx.google.com with ESMTPS id ${prng.hex(12)}; ${rfc2822Date(sentAt)}`,
      ]);
    }
    headers.push(['Date', rfc2822Date(sentAt, own ? 0 : tz)]);
    headers.push(['From', formatAddress(from, headerCharset)]);
    headers.push(['To', formatAddress(to, headerCharset)]);
    headers.push(['Subject', encodeHeaderText(subjectText, headerCharset, headerCharset === 'UTF-8' ? 'B' : 'Q')]);
    headers.push(['Message-ID', `<${plan.messageIds[i]}>`]);
    if (i > 0) {
      headers.push(['In-Reply-To', `<${plan.messageIds[i - 1]}>`]);
      headers.push(['References', plan.messageIds.slice(0, i).map((m) => `<${m}>`).join(' ')]);
    }
    headers.push(...rendered.extraHeaders);
    out.push(serializeMessage(headers, rendered.root));
  }
  return out;
}
