/**
 * Simulated humans: an oracle that answers a leaf question correctly except with probability `errorRate`,
 * when it gives one of the wrong answers uniformly. Seeded, so a demo run is reproducible.
 */
import { SeededRng } from '../inference/onnx/rng.js';
import { groundTruth, MODULUS, parseQuestion } from './task.js';

export class SimulatedHuman {
  private readonly rng: SeededRng;
  answered = 0;
  mistakes = 0;

  constructor(
    /** The `sub` the human's token carries (what the ledger records as who answered). */
    readonly name: string,
    readonly errorRate: number,
    seed: number,
  ) {
    if (!(errorRate >= 0 && errorRate <= 1)) throw new RangeError('errorRate must be in [0, 1]');
    this.rng = new SeededRng(seed);
  }

  /** The human's answer to a task question (a digit as a string). */
  answer(question: string): string {
    const digits = parseQuestion(question);
    if (digits === null) throw new Error(`not a question of this task: ${question}`);
    const truth = groundTruth(digits);
    this.answered++;
    if (this.rng.next() < this.errorRate) {
      this.mistakes++;
      return String((truth + 1 + this.rng.int(MODULUS - 1)) % MODULUS);
    }
    return String(truth);
  }

  /** True with probability `rate`: whether this human spot-checks a given answer. */
  decides(rate: number): boolean {
    return this.rng.next() < rate;
  }
}

/** A pool answering in turn (round robin), so the ledger's human pool has several members. */
export class HumanPool {
  private next = 0;
  constructor(readonly humans: readonly SimulatedHuman[]) {
    if (humans.length === 0) throw new RangeError('a pool needs at least one human');
  }
  pick(): SimulatedHuman {
    const human = this.humans[this.next % this.humans.length]!;
    this.next++;
    return human;
  }
}
