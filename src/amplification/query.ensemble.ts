/**
 * How an ensemble's member answers become one answer (docs/ida-domain.md, "Amplification"): majority vote.
 * Shared by the decider that records `EnsembleAnswerAggregated` and by `evolve`, which recomputes it to refuse
 * a stored aggregate that does not follow from its members. Pure and deterministic (same floating-point path
 * on both sides), plain TypeScript.
 */
import { LedgerError } from '../common/ledger-error.js';
import type { EnsembleMember } from './query.events.js';

/**
 * Answers are grouped after trimming and case-folding (as recalibration compares answers), so "Yes" and
 * "yes " vote together; the group's text is its earliest member's answer as given.
 */
export function answerKey(answer: string): string {
  return answer.trim().toLowerCase();
}

/**
 * Majority over `members` (in assignment order): the largest group wins, a tie goes to the group holding the
 * earliest member. Confidence = mean confidence of the winning group × its share of all members, so a narrow
 * or unsure majority scores low and is escalated.
 */
export function aggregateMajority(members: readonly EnsembleMember[]): { answer: string; confidence: number } {
  if (members.length === 0) throw new LedgerError('QUERY.UNREACHABLE', 'internal', 'An ensemble without members cannot vote');
  // Map iteration follows insertion order, i.e. the order of each group's earliest member.
  const groups = new Map<string, EnsembleMember[]>();
  for (const member of members) {
    const key = answerKey(member.answer);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [member]);
    else group.push(member);
  }
  let winner: EnsembleMember[] = [];
  for (const group of groups.values()) if (group.length > winner.length) winner = group;
  const mean = winner.reduce((sum, m) => sum + m.confidence, 0) / winner.length;
  return { answer: winner[0]!.answer, confidence: mean * (winner.length / members.length) };
}
