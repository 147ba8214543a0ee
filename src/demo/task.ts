/**
 * The demo's algorithmic task, in the style of Christiano, Shlegeris & Amodei 2018 ("Supervising strong
 * learners by amplifying weak experts"): the sum modulo 10 of a list of digits. A question over a long list is
 * decomposed recursively into questions over its halves until a question covers at most `leafSize` digits;
 * a parent's answer is composed from its children's: (left + right) mod 10. Leaves are what humans (iteration
 * 0) and then distilled proxies answer. Pure functions, no I/O.
 */
import type { SeededRng } from '../inference/onnx/rng.js';

export const MODULUS = 10;
/** The classes a leaf answer can take, as the strings recorded in the ledger. */
export const ANSWER_LABELS: readonly string[] = Array.from({ length: MODULUS }, (_, i) => String(i));

const QUESTION = /^sum mod 10 of \[(\d(?:,\d)*)\]$/u;

export function questionFor(digits: readonly number[]): string {
  if (digits.length === 0 || !digits.every((d) => Number.isInteger(d) && d >= 0 && d < MODULUS)) throw new RangeError('digits must be 0..9, at least one');
  return `sum mod 10 of [${digits.join(',')}]`;
}

/** The digits a question is about, or null for a question this task does not ask. */
export function parseQuestion(question: string): number[] | null {
  const match = QUESTION.exec(question.trim());
  return match ? match[1]!.split(',').map(Number) : null;
}

export function groundTruth(digits: readonly number[]): number {
  return digits.reduce((sum, d) => (sum + d) % MODULUS, 0);
}

/** A parent's answer from its children's answers (the amplification step the pipeline performs). */
export function compose(childAnswers: readonly number[]): number {
  return groundTruth(childAnswers);
}

export interface PlanNode {
  digits: number[];
  question: string;
  children: PlanNode[];
}

/** Splits in halves until a node covers at most `leafSize` digits. */
export function decompose(digits: readonly number[], leafSize = 2): PlanNode {
  if (!Number.isSafeInteger(leafSize) || leafSize < 1) throw new RangeError('leafSize must be a positive integer');
  const node: PlanNode = { digits: [...digits], question: questionFor(digits), children: [] };
  if (digits.length > leafSize) {
    const middle = Math.ceil(digits.length / 2);
    node.children = [decompose(digits.slice(0, middle), leafSize), decompose(digits.slice(middle), leafSize)];
  }
  return node;
}

export function leavesOf(plan: PlanNode): PlanNode[] {
  return plan.children.length === 0 ? [plan] : plan.children.flatMap(leavesOf);
}

/** Depth of the deepest node (root 0). */
export function depthOf(plan: PlanNode): number {
  return plan.children.length === 0 ? 0 : 1 + Math.max(...plan.children.map(depthOf));
}

export function randomDigits(rng: SeededRng, length: number): number[] {
  return Array.from({ length }, () => rng.int(MODULUS));
}
