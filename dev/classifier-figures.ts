/**
 * Print the mail-understanding figures the README reports: classification accuracy on the labelled set the
 * rules and the model are tuned on, and on the held-out set; and the share of signatures split correctly on
 * held-out mail. Misses are listed with the classifier's reasons. Then the rules without the fallback model,
 * and the model alone, on the data it is trained on (the tuned set, batches 1-10 and the training corpus
 * tests/fixtures/gmail-training.ts: 940 messages) and on the batches it never saw.
 *
 *   npx tsx dev/classifier-figures.ts           figures and misses
 *   npx tsx dev/classifier-figures.ts --brief   figures only
 */
import type { ModelWeights } from '../lib/sync/gmail/classifier-model';
import weights from '../lib/sync/gmail/classifier-weights.json' with { type: 'json' };
import {
  classificationAccuracy,
  formatAccuracy,
  formatSignatures,
  modelAloneAccuracy,
  signatureShare,
} from '../tests/fixtures/gmail-evaluate';
import {
  heldOutFirstBatchSize,
  heldOutMessages,
  heldOutSecondBatchEnd,
  heldOutFifthBatchEnd,
  heldOutFourthBatchEnd,
  heldOutEighthBatchEnd,
  heldOutNinthBatchEnd,
  heldOutTenthBatchEnd,
  heldOutSeventhBatchEnd,
  heldOutSixthBatchEnd,
  heldOutThirdBatchEnd,
  heldOutEleventhBatchEnd,
  heldOutTwelfthBatchEnd,
  heldOutThirteenthBatchEnd,
  heldOutFourteenthBatchEnd,
  heldOutFifteenthBatchEnd,
  heldOutSixteenthBatchEnd,
  heldOutSeventeenthBatchEnd,
  heldOutEighteenthBatchEnd,
  heldOutNineteenthBatchEnd,
} from '../tests/fixtures/gmail-heldout';
import { labelledMessages } from '../tests/fixtures/gmail-labelled';
import { trainingCorpus } from '../tests/fixtures/gmail-training';

const brief = process.argv.includes('--brief');
const firstLine = (s: string) => (brief ? (s.split('\n')[0] ?? '') : s);

console.log(firstLine(formatAccuracy('tuned set (tests/fixtures/gmail-labelled.ts)', classificationAccuracy(labelledMessages))));
console.log(firstLine(formatAccuracy('held-out set (tests/fixtures/gmail-heldout.ts)', classificationAccuracy(heldOutMessages))));
const batches = [
  ['held-out batch 1 (written before the rework)', heldOutMessages.slice(0, heldOutFirstBatchSize)],
  ['held-out batch 2 (written after it)', heldOutMessages.slice(heldOutFirstBatchSize, heldOutSecondBatchEnd)],
  ['held-out batch 3 (written after batch 2 was fixed)', heldOutMessages.slice(heldOutSecondBatchEnd, heldOutThirdBatchEnd)],
  ['held-out batch 4 (written after batch 3 was fixed)', heldOutMessages.slice(heldOutThirdBatchEnd, heldOutFourthBatchEnd)],
  ['held-out batch 5 (written before batch 4 was fixed)', heldOutMessages.slice(heldOutFourthBatchEnd, heldOutFifthBatchEnd)],
  ['held-out batch 6 (written after batches 4 and 5 were fixed)', heldOutMessages.slice(heldOutFifthBatchEnd, heldOutSixthBatchEnd)],
  ['held-out batch 7 (written after batch 6 was fixed)', heldOutMessages.slice(heldOutSixthBatchEnd, heldOutSeventhBatchEnd)],
  ['held-out batch 8 (written after batch 7 was fixed)', heldOutMessages.slice(heldOutSeventhBatchEnd, heldOutEighthBatchEnd)],
  ['held-out batch 9 (written after batch 8 was fixed)', heldOutMessages.slice(heldOutEighthBatchEnd, heldOutNinthBatchEnd)],
  ['held-out batch 10 (written after batch 9 was fixed)', heldOutMessages.slice(heldOutNinthBatchEnd, heldOutTenthBatchEnd)],
  ['held-out batch 11 (written after batch 10 was fixed; never fixed)', heldOutMessages.slice(heldOutTenthBatchEnd, heldOutEleventhBatchEnd)],
  ['held-out batch 12 (written blind before the model was retrained; never fixed)', heldOutMessages.slice(heldOutEleventhBatchEnd, heldOutTwelfthBatchEnd)],
  ['held-out batch 13 (written blind before the model was retrained, measured after; never fixed)', heldOutMessages.slice(heldOutTwelfthBatchEnd, heldOutThirteenthBatchEnd)],
  ['held-out batch 14 (written blind before the corpus retraining, measured once after; never fixed)', heldOutMessages.slice(heldOutThirteenthBatchEnd, heldOutFourteenthBatchEnd)],
  ['held-out batch 15 (written blind, measured once at 0.83; then fixed)', heldOutMessages.slice(heldOutFourteenthBatchEnd, heldOutFifteenthBatchEnd)],
  ['held-out batch 16 (written blind, measured once at 0.84; then fixed)', heldOutMessages.slice(heldOutFifteenthBatchEnd, heldOutSixteenthBatchEnd)],
  ['held-out batch 17 (written blind, measured once at 0.74; then fixed)', heldOutMessages.slice(heldOutSixteenthBatchEnd, heldOutSeventeenthBatchEnd)],
  ['held-out batch 18 (written blind, measured once at 0.76; then fixed)', heldOutMessages.slice(heldOutSeventeenthBatchEnd, heldOutEighteenthBatchEnd)],
  ['held-out batch 19 (written blind, measured once at 0.80; then fixed)', heldOutMessages.slice(heldOutEighteenthBatchEnd, heldOutNineteenthBatchEnd)],
  ['held-out batch 20 (written blind after batch 19 was fixed; never fixed)', heldOutMessages.slice(heldOutNineteenthBatchEnd)],
] as const;
for (const [label, set] of batches) {
  const a = classificationAccuracy(set);
  console.log(`  ${label}: ${a.accuracy.toFixed(2)} (${a.correct}/${a.total})`);
}
console.log(firstLine(formatSignatures(signatureShare(heldOutMessages))));
for (const [label, set] of batches) {
  const s = signatureShare(set);
  console.log(`  ${label}: ${s.split}/${s.withSignature} split, nothing cut on ${s.untouched}/${s.withoutSignature}`);
}

const rulesAlone = (label: string, set: typeof labelledMessages) => {
  const a = classificationAccuracy(set, { model: null });
  return `${label} ${a.accuracy.toFixed(2)} (${a.correct}/${a.total})`;
};
const modelAlone = (label: string, set: typeof labelledMessages) => {
  const a = modelAloneAccuracy(set, weights as ModelWeights);
  return `${label} ${a.accuracy.toFixed(2)} (${a.correct}/${a.total})`;
};
console.log(`rules without the model: ${rulesAlone('tuned', labelledMessages)}, ${rulesAlone('held-out', heldOutMessages)}`);
// the model is trained on the tuned set, batches 1-10 and the training corpus (dev/train-classifier.ts); batch 11
// on are never trained on
const trainedOn = [...labelledMessages, ...heldOutMessages.slice(0, heldOutTenthBatchEnd), ...trainingCorpus];
const neverTrained = heldOutMessages.slice(heldOutTenthBatchEnd);
console.log(
  `model alone: ${modelAlone('on its training data (tuned set, batches 1-10, training corpus)', trainedOn)}, ${modelAlone('on batches 11 on, never trained on', neverTrained)}`,
);
