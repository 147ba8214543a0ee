import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { aggregateMajority, answerKey } from './query.ensemble.js';
import { refusal } from './query.test-kit.js';

const m = (answer: string, confidence: number, i = 0) => ({ jobId: `j-${i}`, proxyVersionId: `p-${i}`, answer, confidence });

describe('aggregateMajority', () => {
  it('unanimous: the answer, with the mean confidence', () => {
    expect(aggregateMajority([m('yes', 0.8, 1), m('yes', 0.6, 2)])).toEqual({ answer: 'yes', confidence: 0.7 });
  });

  it('2 of 3: mean of the majority × 2/3; the minority confidence does not count', () => {
    const vote = aggregateMajority([m('no', 0.99, 1), m('yes', 0.9, 2), m('yes', 0.6, 3)]);
    expect(vote.answer).toBe('yes');
    expect(vote.confidence).toBeCloseTo(0.75 * (2 / 3), 12);
  });

  it('groups after trimming and case-folding; the text is the earliest member of the group, as given', () => {
    expect(aggregateMajority([m('b', 1, 1), m(' Yes', 0.5, 2), m('yes ', 0.5, 3), m('YES', 0.5, 4)]).answer).toBe(' Yes');
    expect(answerKey('  Warfarin\n')).toBe('warfarin');
  });

  it('a tie goes to the group of the earliest member', () => {
    expect(aggregateMajority([m('a', 0.1, 1), m('b', 0.9, 2), m('b', 0.9, 3), m('a', 0.1, 4)]).answer).toBe('a');
    expect(aggregateMajority([m('x', 0.3, 1), m('y', 1, 2), m('z', 1, 3)])).toEqual({ answer: 'x', confidence: 0.3 * (1 / 3) });
  });

  it('no members: an internal error, never a made-up answer', () => {
    expect(refusal(() => aggregateMajority([])).category).toBe('internal');
  });

  it('property: the confidence stays in [0, 1], the answer is a member answer, and the result is deterministic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ answer: fc.constantFrom('a', 'A', 'b', ' b', 'c'), confidence: fc.double({ min: 0, max: 1, noNaN: true }) }), {
          minLength: 2,
          maxLength: 9,
        }),
        (raw) => {
          const members = raw.map((r, i) => m(r.answer, r.confidence, i));
          const vote = aggregateMajority(members);
          expect(vote.confidence).toBeGreaterThanOrEqual(0);
          expect(vote.confidence).toBeLessThanOrEqual(1);
          expect(members.map((x) => x.answer)).toContain(vote.answer);
          expect(aggregateMajority(members.map((x) => ({ ...x })))).toEqual(vote);
        },
      ),
    );
  });
});
