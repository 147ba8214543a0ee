import { describe, expect, it } from '@jest/globals';
import { initialQueryState } from '../query.state.js';
import { ev, given, history, refusal, ROOT, sequentialIds } from '../query.test-kit.js';
import { decideDecomposeNode, MAX_SUBQUESTIONS } from './decompose-node.command.js';

const ids = () => sequentialIds('c');

describe('decompose-node', () => {
  describe('given an open query with an undecomposed root', () => {
    const state = given(...history.opened());

    it('when the root is decomposed, then SubqueriesDelegated with one passed-in id per subquestion, in order', () => {
      expect(decideDecomposeNode({ nodeId: ROOT, subquestions: ['A?', 'B?'] }, state, ids())).toEqual([
        ev.delegated(ROOT, { 'c-1': 'A?', 'c-2': 'B?' }),
      ]);
    });

    it('when 32 subquestions are given, then all are delegated', () => {
      const subquestions = Array.from({ length: MAX_SUBQUESTIONS }, (_, i) => `Q${i}?`);
      const [event] = decideDecomposeNode({ nodeId: ROOT, subquestions }, state, ids());
      expect(event.data.children).toHaveLength(MAX_SUBQUESTIONS);
    });

    it.each<[string, string[]]>([
      ['no subquestions', []],
      ['33 subquestions', Array.from({ length: MAX_SUBQUESTIONS + 1 }, () => 'Q?')],
      ['a blank subquestion', ['A?', '  ']],
      ['a subquestion over 4000 characters', ['x'.repeat(4001)]],
    ])('when given %s, then QUERY.INVALID_COMMAND', (_, subquestions) => {
      expect(refusal(() => decideDecomposeNode({ nodeId: ROOT, subquestions }, state, ids()))).toMatchObject({
        code: 'QUERY.INVALID_COMMAND',
        category: 'unprocessable',
      });
    });

    it('when the node is unknown, then QUERY.NODE_NOT_FOUND (not_found)', () => {
      expect(refusal(() => decideDecomposeNode({ nodeId: 'nope', subquestions: ['A?'] }, state, ids()))).toMatchObject({
        code: 'QUERY.NODE_NOT_FOUND',
        category: 'not_found',
        details: { nodeId: 'nope' },
      });
    });

    it('when the id source repeats an id, then QUERY.NODE_ID_CONFLICT and nothing is delegated', () => {
      const same = { newId: () => 'dup' };
      expect(refusal(() => decideDecomposeNode({ nodeId: ROOT, subquestions: ['A?', 'B?'] }, state, same))).toMatchObject({
        code: 'QUERY.NODE_ID_CONFLICT',
      });
    });

    it('when the id source returns an id already in the tree, then QUERY.NODE_ID_CONFLICT', () => {
      const reuse = { newId: () => ROOT };
      expect(refusal(() => decideDecomposeNode({ nodeId: ROOT, subquestions: ['A?'] }, state, reuse))).toMatchObject({
        code: 'QUERY.NODE_ID_CONFLICT',
      });
    });
  });

  describe('given a decomposed root (children at depth 1, maxDepth 3)', () => {
    const state = given(...history.decomposed());

    it('when a child is decomposed, then its children are delegated (depth 2 ≤ maxDepth)', () => {
      expect(decideDecomposeNode({ nodeId: 'n-1', subquestions: ['A?'] }, state, ids())).toEqual([
        ev.delegated('n-1', { 'c-1': 'A?' }),
      ]);
    });

    it('when the root is decomposed again, then QUERY.NODE_ALREADY_DECOMPOSED (conflict)', () => {
      expect(refusal(() => decideDecomposeNode({ nodeId: ROOT, subquestions: ['A?'] }, state, ids()))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_DECOMPOSED',
        category: 'conflict',
      });
    });
  });

  describe('given maxDepth 2 and a chain down to depth 2', () => {
    const state = given(
      ev.opened({ maxDepth: 2 }),
      ev.delegated(ROOT, { 'n-1': 'A?' }),
      ev.delegated('n-1', { 'n-2': 'B?' }),
    );

    it('when the depth-2 node is decomposed, then QUERY.MAX_DEPTH_EXCEEDED (unprocessable)', () => {
      expect(refusal(() => decideDecomposeNode({ nodeId: 'n-2', subquestions: ['C?'] }, state, ids()))).toMatchObject({
        code: 'QUERY.MAX_DEPTH_EXCEEDED',
        category: 'unprocessable',
        details: { nodeId: 'n-2', depth: 2, maxDepth: 2 },
      });
    });
  });

  describe('given maxDepth 1', () => {
    it('when the root is decomposed, then it is allowed; when a child is, then QUERY.MAX_DEPTH_EXCEEDED', () => {
      const opened = given(ev.opened({ maxDepth: 1 }));
      expect(decideDecomposeNode({ nodeId: ROOT, subquestions: ['A?'] }, opened, ids())).toHaveLength(1);
      const decomposed = given(ev.opened({ maxDepth: 1 }), ev.delegated(ROOT, { 'n-1': 'A?' }));
      expect(refusal(() => decideDecomposeNode({ nodeId: 'n-1', subquestions: ['B?'] }, decomposed, ids()))).toMatchObject(
        { code: 'QUERY.MAX_DEPTH_EXCEEDED' },
      );
    });
  });

  describe('given an answered leaf', () => {
    it('when it is decomposed, then QUERY.NODE_ALREADY_ANSWERED (conflict)', () => {
      const state = given(...history.decomposed(), ev.answered('n-1', 'yes'));
      expect(refusal(() => decideDecomposeNode({ nodeId: 'n-1', subquestions: ['A?'] }, state, ids()))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ANSWERED',
        category: 'conflict',
      });
    });
  });

  describe('given assigned or escalated leaves', () => {
    it.each([
      ['to a proxy (job pending)', history.proxyPending(), 'proxy'],
      ['to a human', [...history.decomposed(), ev.assigned('n-1', { kind: 'human' })], 'human'],
      ['to an ensemble', history.ensemblePending(), 'ensemble'],
    ])('when a leaf assigned %s is decomposed, then QUERY.NODE_ALREADY_ASSIGNED (409)', (_, events, assignee) => {
      expect(refusal(() => decideDecomposeNode({ nodeId: 'n-1', subquestions: ['A?'] }, given(...events), ids()))).toMatchObject({
        code: 'QUERY.NODE_ALREADY_ASSIGNED',
        category: 'conflict',
        details: { nodeId: 'n-1', assignee },
      });
    });

    it.each([
      ['for low confidence', history.lowConfidence()],
      ['by hand', [...history.decomposed(), ev.escalated('n-1')]],
    ])('when a leaf escalated %s is decomposed, then QUERY.NODE_ESCALATED (409): a human answers it', (_, events) => {
      expect(refusal(() => decideDecomposeNode({ nodeId: 'n-1', subquestions: ['A?'] }, given(...events), ids()))).toMatchObject({
        code: 'QUERY.NODE_ESCALATED',
        category: 'conflict',
      });
    });

    it('when a leaf answered by a proxy is decomposed, then QUERY.NODE_ALREADY_ANSWERED', () => {
      expect(refusal(() => decideDecomposeNode({ nodeId: 'n-1', subquestions: ['A?'] }, given(...history.proxyAnswered()), ids())).code).toBe(
        'QUERY.NODE_ALREADY_ANSWERED',
      );
    });
  });

  describe('given a query in a final or absent state', () => {
    it.each([
      ['no query', () => initialQueryState, 'QUERY.NOT_FOUND', 'not_found'],
      ['a completed query', () => given(...history.completed()), 'QUERY.COMPLETED', 'conflict'],
      ['a stopped query', () => given(...history.stoppedWhileOpen()), 'QUERY.STOPPED', 'conflict'],
      ['a query stopped after completion', () => given(...history.stoppedAfterCompletion()), 'QUERY.STOPPED', 'conflict'],
    ])('when %s, then %s', (_, state, code, category) => {
      expect(refusal(() => decideDecomposeNode({ nodeId: 'n-1', subquestions: ['A?'] }, state(), ids()))).toMatchObject({
        code,
        category,
      });
    });
  });
});
