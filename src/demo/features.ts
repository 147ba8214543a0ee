/**
 * Featurisation of leaf questions for the MLP students: each of `slots` positions is a one-hot over the ten
 * digits plus an "empty" marker (a leaf may cover fewer digits than `slots`). The model input given at
 * assignment (and hashed into the grant) is `{question, features, labels}`: the worker runs `features` and
 * answers `labels[argmax]`.
 */
import type { JsonValue } from '../ledger/entry.js';
import { ANSWER_LABELS, MODULUS, parseQuestion } from './task.js';

export const FEATURISATION = 'one-hot-digits-v1';
const SLOT_WIDTH = MODULUS + 1;

export function featureCount(slots: number): number {
  return slots * SLOT_WIDTH;
}

export function featurise(question: string, slots = 2): number[] {
  const digits = parseQuestion(question);
  if (digits === null) throw new Error(`not a question of this task: ${question}`);
  if (digits.length > slots) throw new RangeError(`${digits.length} digits do not fit ${slots} slots`);
  const features = new Array<number>(featureCount(slots)).fill(0);
  for (let slot = 0; slot < slots; slot++) {
    const digit = digits[slot];
    features[slot * SLOT_WIDTH + (digit === undefined ? MODULUS : digit)] = 1;
  }
  return features;
}

export interface ModelInput {
  question: string;
  features: number[];
  labels: string[];
  [key: string]: JsonValue;
}

/** The job input for a leaf question. */
export function modelInputFor(question: string, slots = 2): ModelInput {
  return { question, features: featurise(question, slots), labels: [...ANSWER_LABELS] };
}

/** Every question a leaf can ask with up to `slots` digits (the whole input space, for drift). */
export function allLeafQuestions(slots = 2): string[] {
  const out: string[] = [];
  const walk = (prefix: number[]) => {
    if (prefix.length > 0) out.push(`sum mod 10 of [${prefix.join(',')}]`);
    if (prefix.length === slots) return;
    for (let d = 0; d < MODULUS; d++) walk([...prefix, d]);
  };
  walk([]);
  return out;
}
