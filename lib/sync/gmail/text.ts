/**
 * Text as the classifier's rules and model read it: Unicode compatibility forms folded (NFKC: full-width digits
 * and letters, ligatures, no-break spaces), typographic apostrophes and quotes made ASCII ("we’ve" is "we've"),
 * every dash and the non-breaking hyphen a hyphen ("sign‑in" is "sign-in"), invisible characters (zero-width
 * spaces and joiners, soft hyphens, byte-order marks) removed, runs of spaces made one. Newlines are kept.
 */
export function normalizeForMatching(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\u00ad\u200b-\u200d\u2060\ufeff\u034f\u180e]/g, '')
    .replace(/[\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4]/g, "'")
    .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a]/g, '"')
    .replace(/[\u2010-\u2015\u2212\ufe58\ufe63]/g, '-')
    .replace(/[^\S\n]+/g, ' ');
}
