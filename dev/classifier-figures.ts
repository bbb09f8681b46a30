/**
 * Print the mail-understanding figures the README reports: classification accuracy on the labelled set the
 * rules and the model are tuned on, and on the held-out set; and the share of signatures split correctly on
 * held-out mail. Misses are listed with the classifier's reasons.
 *
 *   npx tsx dev/classifier-figures.ts           figures and misses
 *   npx tsx dev/classifier-figures.ts --brief   figures only
 */
import { classificationAccuracy, formatAccuracy, formatSignatures, signatureShare } from '../tests/fixtures/gmail-evaluate';
import { heldOutMessages } from '../tests/fixtures/gmail-heldout';
import { labelledMessages } from '../tests/fixtures/gmail-labelled';

const brief = process.argv.includes('--brief');
const firstLine = (s: string) => (brief ? (s.split('\n')[0] ?? '') : s);

console.log(firstLine(formatAccuracy('tuned set (tests/fixtures/gmail-labelled.ts)', classificationAccuracy(labelledMessages))));
console.log(firstLine(formatAccuracy('held-out set (tests/fixtures/gmail-heldout.ts)', classificationAccuracy(heldOutMessages))));
console.log(firstLine(formatSignatures(signatureShare(heldOutMessages))));
