import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPolicyDir } from '../common/config.js';
import { loadPolicySetFromDir, policySetDigest, validatePolicySet } from './policy-set.js';
import { refusalOf, shippedPolicySet } from './policy.test-kit.js';

const schema = () => shippedPolicySet().schema;
const policy = (id: string, body = 'when { resource.stage == "production" }', effect = 'permit') =>
  `@id("${id}")\n${effect} (principal, action == IdaLedger::Action::"RunInference", resource)\n${body};\n`;

describe('policy sets', () => {
  it('the shipped set loads, validates and names each policy by its @id', () => {
    const set = shippedPolicySet();
    expect(set.digest).toMatch(/^sha256:[0-9a-f]{64}$/u);
    expect(set.policies.map((p) => p.id)).toEqual([
      'promote-proxy.permit-same-tenant',
      'run-inference.forbid-drift-above-limit',
      'run-inference.forbid-low-fidelity',
      'run-inference.forbid-other-tenant',
      'run-inference.forbid-restricted-unless-production',
      'run-inference.permit-production',
      'run-inference.permit-shadow-in-shadow-mode',
    ]);
    // The text recorded is the file's, comments included: what an auditor reads is what was evaluated.
    const file = readFileSync(join(defaultPolicyDir(), 'run-inference.forbid-low-fidelity.cedar'), 'utf8');
    expect(set.policies.find((p) => p.id === 'run-inference.forbid-low-fidelity')!.text).toBe(file);
  });

  it('the digest is sha256 of RFC 8785 {schema, policies sorted by id}: stable under policy order', () => {
    const set = shippedPolicySet();
    const reversed = [...set.policies].reverse();
    expect(policySetDigest({ schema: set.schema, policies: reversed })).toBe(set.digest);
    expect(validatePolicySet({ schema: set.schema, policies: reversed }).digest).toBe(set.digest);
    // Any change of a text or of the schema is a new digest.
    const edited = set.policies.map((p, i) => (i === 0 ? { ...p, text: `${p.text}\n` } : p));
    expect(policySetDigest({ schema: set.schema, policies: edited })).not.toBe(set.digest);
    expect(policySetDigest({ schema: `${set.schema}\n`, policies: set.policies })).not.toBe(set.digest);
  });

  it('a policy that does not validate against the schema is refused with POLICY.INVALID_SET naming it', () => {
    const refusal = refusalOf(() =>
      validatePolicySet({
        schema: schema(),
        policies: [
          { id: 'ok', text: policy('ok') },
          // Unguarded optional attribute: Cedar would skip it at run time when fidelity is unknown (fail open).
          { id: 'unguarded', text: policy('unguarded', 'when { resource.fidelityPermille < 800 }', 'forbid') },
        ],
      }),
    );
    expect(refusal.code).toBe('POLICY.INVALID_SET');
    expect(refusal.message).toMatch(/^Policy "unguarded" is invalid: .*fidelityPermille/u);
    expect(refusal.details['policyId']).toBe('unguarded');
  });

  it.each([
    ['a syntax error', { id: 'broken', text: 'permit (principal, action, resource) when { ' }, /Policy "broken" is invalid/u],
    ['two policies in one text', { id: 'double', text: `${policy('double')}${policy('other')}` }, /exactly one policy/u],
    ['an @id that differs from the id', { id: 'named', text: policy('other-name') }, /differs from the id "named"/u],
    ['an id with spaces', { id: 'has space', text: policy('has space') }, /Policy "has space" is invalid: the id must match/u],
    ['an unknown attribute', { id: 'typo', text: policy('typo', 'when { resource.stag == "production" }') }, /Policy "typo".*stag/u],
  ])('refuses %s, naming the policy', (_, bad, message) => {
    const refusal = refusalOf(() => validatePolicySet({ schema: schema(), policies: [{ id: 'ok', text: policy('ok') }, bad] }));
    expect(refusal.code).toBe('POLICY.INVALID_SET');
    expect(refusal.message).toMatch(message);
  });

  it('refuses duplicate ids, an empty set and a schema that does not parse', () => {
    expect(refusalOf(() => validatePolicySet({ schema: schema(), policies: [{ id: 'a', text: policy('a') }, { id: 'a', text: policy('a') }] })).message).toMatch(
      /Policy "a" is invalid: two policies have this id/u,
    );
    expect(refusalOf(() => validatePolicySet({ schema: schema(), policies: [] })).message).toMatch(/at least one policy/u);
    expect(refusalOf(() => validatePolicySet({ schema: 'namespace X {', policies: [{ id: 'a', text: policy('a') }] })).message).toMatch(
      /^Policy set is invalid: schema: /u,
    );
  });

  describe('loading a folder', () => {
    const copy = (edit: (dir: string) => void): string => {
      const dir = mkdtempSync(join(tmpdir(), 'ida-policies-'));
      for (const name of readdirSync(defaultPolicyDir())) writeFileSync(join(dir, name), readFileSync(join(defaultPolicyDir(), name)));
      edit(dir);
      return dir;
    };

    it('CRLF line endings do not change the digest', () => {
      const dir = copy((d) => {
        for (const name of readdirSync(d)) writeFileSync(join(d, name), readFileSync(join(d, name), 'utf8').replace(/\n/gu, '\r\n'));
      });
      try {
        expect(loadPolicySetFromDir(dir).digest).toBe(shippedPolicySet().digest);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each([
      ['an invalid policy: the file and the policy id', (d: string) => writeFileSync(join(d, 'bad.cedar'), policy('my-bad', 'when { resource.nope }')), /bad\.cedar: Policy "my-bad" is invalid/u],
      ['a policy without @id: the file', (d: string) => writeFileSync(join(d, 'anon.cedar'), 'permit (principal, action, resource);'), /anon\.cedar: the policy has no @id/u],
      ['a file with two policies', (d: string) => writeFileSync(join(d, 'two.cedar'), `${policy('x')}${policy('y')}`), /two\.cedar: holds 2 policies/u],
      ['the same @id twice', (d: string) => writeFileSync(join(d, 'copy.cedar'), policy('run-inference.permit-production')), /run-inference\.permit-production\.cedar and copy\.cedar both use/u],
      ['a missing schema', (d: string) => rmSync(join(d, 'schema.cedarschema')), /schema\.cedarschema is missing/u],
    ])('refuses %s', (_, edit, message) => {
      const dir = copy(edit);
      try {
        const refusal = refusalOf(() => loadPolicySetFromDir(dir));
        expect(refusal.code).toBe('POLICY.INVALID_SET');
        expect(refusal.message).toContain(`Policy set in ${dir} is invalid: `);
        expect(refusal.message).toMatch(message);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
