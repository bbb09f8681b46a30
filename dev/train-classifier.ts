/**
 * Train the classifier's fallback model (lib/sync/gmail/classifier-model.ts) on the TUNED labelled set
 * (tests/fixtures/gmail-labelled.ts) and write lib/sync/gmail/classifier-weights.json. The held-out set
 * (tests/fixtures/gmail-heldout.ts) is never read here: it measures, it does not teach.
 *
 *   npx tsx dev/train-classifier.ts          train and write the weights
 *   npx tsx dev/train-classifier.ts --cv     10-fold cross-validation on the tuned set: the model alone, and
 *                                            what it would change behind the rules at each probability threshold
 *   --l2=0.0001                              the regularisation (default 0.0001, chosen by this cross-validation)
 *
 * Multinomial logistic regression, full-batch gradient descent from zero weights with L2 regularisation:
 * deterministic, so the same set always gives the same file.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { classifyMessage } from '../lib/sync/gmail/classify';
import {
  MODEL_CATEGORIES,
  featureVector,
  messageFeatures,
  predict,
  softmax,
  type ModelWeights,
} from '../lib/sync/gmail/classifier-model';
import { normalizeMessage, type NormalizedMessage } from '../lib/sync/gmail/message';
import { labelledMessages } from '../tests/fixtures/gmail-labelled';

const BUCKETS = 1 << 14;
const EPOCHS = 400;
const LEARNING_RATE = 2;
const L2 = Number(process.argv.find((a) => a.startsWith('--l2='))?.slice(5) ?? 1e-4);
const FOLDS = 10;

interface Example {
  name: string;
  message: NormalizedMessage;
  vector: Map<number, number>;
  label: number;
}

function train(examples: Example[], l2 = L2): ModelWeights {
  const C = MODEL_CATEGORIES.length;
  const used = [...new Set(examples.flatMap((e) => [...e.vector.keys()]))].sort((a, b) => a - b);
  const W = new Map<number, Float64Array>(used.map((k) => [k, new Float64Array(C)]));
  const bias = new Float64Array(C);
  const n = examples.length;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const gradW = new Map<number, Float64Array>(used.map((k) => [k, new Float64Array(C)]));
    const gradB = new Float64Array(C);
    for (const e of examples) {
      const scores = Array.from(bias);
      for (const [k, x] of e.vector) {
        const w = W.get(k) as Float64Array;
        for (let c = 0; c < C; c++) scores[c] = (scores[c] ?? 0) + (w[c] ?? 0) * x;
      }
      const p = softmax(scores);
      for (let c = 0; c < C; c++) {
        const g = (p[c] ?? 0) - (c === e.label ? 1 : 0);
        gradB[c] = (gradB[c] ?? 0) + g;
        for (const [k, x] of e.vector) {
          const gw = gradW.get(k) as Float64Array;
          gw[c] = (gw[c] ?? 0) + g * x;
        }
      }
    }
    for (let c = 0; c < C; c++) bias[c] = (bias[c] ?? 0) - (LEARNING_RATE * (gradB[c] ?? 0)) / n;
    for (const k of used) {
      const w = W.get(k) as Float64Array;
      const g = gradW.get(k) as Float64Array;
      for (let c = 0; c < C; c++) w[c] = (w[c] ?? 0) - LEARNING_RATE * ((g[c] ?? 0) / n + l2 * (w[c] ?? 0));
    }
  }
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  const weights: Record<string, number[]> = {};
  for (const k of used) {
    const w = Array.from(W.get(k) as Float64Array, round);
    if (w.some((x) => x !== 0)) weights[String(k)] = w;
  }
  return { buckets: BUCKETS, categories: [...MODEL_CATEGORIES], bias: Array.from(bias, round), weights };
}

function examplesOf(): Example[] {
  return labelledMessages.map((l) => {
    const message = normalizeMessage(l.message);
    return { name: l.name, message, vector: featureVector(messageFeatures(message), BUCKETS), label: MODEL_CATEGORIES.indexOf(l.expected) };
  });
}

function crossValidate(examples: Example[]): void {
  const thresholds = [0.5, 0.6, 0.7, 0.8, 0.9];
  let alone = 0;
  const flips = thresholds.map(() => ({ right: 0, wrong: 0 }));
  let fallbacks = 0;
  const predictions = new Map<number, ReturnType<typeof predict>>();
  for (let fold = 0; fold < FOLDS; fold++) {
    const model = train(examples.filter((_, j) => j % FOLDS !== fold));
    examples.forEach((e, j) => {
      if (j % FOLDS === fold) predictions.set(j, predict(e.message, model));
    });
  }
  const confident = thresholds.map(() => ({ right: 0, wrong: 0 }));
  for (let i = 0; i < examples.length; i++) {
    const held = examples[i] as Example;
    const p = predictions.get(i) as ReturnType<typeof predict>;
    const expected = MODEL_CATEGORIES[held.label];
    if (p.category === expected) alone += 1;
    thresholds.forEach((t, ti) => {
      const f = confident[ti] as { right: number; wrong: number };
      if (p.probability >= t) f[p.category === expected ? 'right' : 'wrong'] += 1;
    });
    const rules = classifyMessage(held.message, { model: null });
    if (rules.category !== 'other' || !rules.reasons[0]?.startsWith('rule 9')) continue;
    fallbacks += 1;
    thresholds.forEach((t, ti) => {
      const f = flips[ti] as { right: number; wrong: number };
      if (p.category === 'other' || p.probability < t) return;
      if (p.category === expected) f.right += 1;
      else f.wrong += 1;
    });
  }
  console.log(`${FOLDS}-fold cross-validation on the tuned set (${examples.length} messages), L2 ${L2}`);
  console.log(`  model alone: ${(alone / examples.length).toFixed(2)} (${alone}/${examples.length})`);
  thresholds.forEach((t, ti) => {
    const f = confident[ti] as { right: number; wrong: number };
    console.log(`    p >= ${t.toFixed(2)}: ${f.right + f.wrong} predictions, ${f.right} right`);
  });
  console.log(`  behind the rules: ${fallbacks} messages reach rule 9; the model would change them as follows`);
  thresholds.forEach((t, ti) => {
    const f = flips[ti] as { right: number; wrong: number };
    console.log(`    p >= ${t.toFixed(2)}: ${f.right} corrected, ${f.wrong} made wrong`);
  });
}

const examples = examplesOf();
if (process.argv.includes('--cv')) {
  crossValidate(examples);
} else {
  const model = train(examples);
  const out = fileURLToPath(new URL('../lib/sync/gmail/classifier-weights.json', import.meta.url));
  // one bucket per line, so that a retrain reads as a diff
  const rows = Object.entries(model.weights).map(([k, w]) => `    ${JSON.stringify(k)}: ${JSON.stringify(w)}`);
  const head = `  "buckets": ${model.buckets},\n  "categories": ${JSON.stringify(model.categories)},\n  "bias": ${JSON.stringify(model.bias)},`;
  writeFileSync(out, `{\n${head}\n  "weights": {\n${rows.join(',\n')}\n  }\n}\n`);
  console.log(`wrote ${out}: ${Object.keys(model.weights).length} buckets used of ${model.buckets}, trained on ${examples.length} tuned messages`);
}
