/**
 * Policy sets (docs/policy-gate.md, "Policy sets"): a Cedar schema plus policies, each with an id, identified
 * by a digest. A set is only ever used after {@link validatePolicySet} accepted it: every policy parses, is one
 * static policy, and validates strictly against the schema — so no policy can be silently skipped at
 * evaluation time for a type error (Cedar skips policies that error, which would let a `forbid` fail open).
 * Plain TypeScript, no Nest.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from '../common/ledger-error.js';
import { canonicalJson } from '../ledger/canonical-json.js';
import { checkParseSchema, policySetTextToParts, policyToJson, validate, type DetailedError } from './cedar.js';

/** Cedar namespace of the schema and of every entity and action the ledger sends. */
export const POLICY_NAMESPACE = 'IdaLedger';
export const SCHEMA_FILE = 'schema.cedarschema';
export const POLICY_FILE_SUFFIX = '.cedar';
/** Ids name policies in decisions and in URLs of reports: short, printable, no spaces. */
export const POLICY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/u;
export const MAX_POLICIES = 200;
export const MAX_POLICY_TEXT = 64 * 1024;
export const MAX_SCHEMA_TEXT = 256 * 1024;

export type PolicyText = { id: string; text: string };

/** What a set is made of: exactly what its digest covers. */
export type PolicySetContent = { schema: string; policies: PolicyText[] };

/** A set that passed {@link validatePolicySet}: policies sorted by id, and its digest. */
export type ValidatedPolicySet = { digest: string; schema: string; policies: PolicyText[] };

/** One problem of a refused set: the policy it is about (`null`: the schema or the set as a whole). */
export type PolicySetProblem = { policyId: string | null; message: string };

/** Policies sorted by id (UTF-16 code units, like RFC 8785 sorts keys): the order never changes the digest. */
export function sortPolicies(policies: readonly PolicyText[]): PolicyText[] {
  return [...policies].map(({ id, text }) => ({ id, text })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** `sha256:` of RFC 8785 JSON of `{schema, policies: [{id, text}] sorted by id}`. */
export function policySetDigest(content: PolicySetContent): string {
  const canonical = canonicalJson({ schema: content.schema, policies: sortPolicies(content.policies) });
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/**
 * Checks a whole set and returns it sorted with its digest. Refuses with `POLICY.INVALID_SET` (422) whose
 * message names the first policy at fault (or the schema) with Cedar's message; `details.problems` lists all.
 */
export function validatePolicySet(content: PolicySetContent): ValidatedPolicySet {
  const problems: PolicySetProblem[] = [];
  const schema = content.schema;
  if (typeof schema !== 'string' || schema.trim() === '') {
    throw invalidSet([{ policyId: null, message: 'the schema is empty' }]);
  }
  if (schema.length > MAX_SCHEMA_TEXT) throw invalidSet([{ policyId: null, message: `the schema exceeds ${MAX_SCHEMA_TEXT} characters` }]);
  const parsedSchema = checkParseSchema(schema);
  if (parsedSchema.type === 'failure') throw invalidSet(parsedSchema.errors.map((e) => ({ policyId: null, message: `schema: ${describe(e)}` })));

  const policies = sortPolicies(content.policies);
  if (policies.length === 0) throw invalidSet([{ policyId: null, message: 'a policy set needs at least one policy' }]);
  if (policies.length > MAX_POLICIES) throw invalidSet([{ policyId: null, message: `a policy set holds at most ${MAX_POLICIES} policies` }]);
  const seen = new Set<string>();
  for (const { id, text } of policies) {
    if (!POLICY_ID_PATTERN.test(id)) {
      problems.push({ policyId: id, message: `the id must match ${POLICY_ID_PATTERN.source}` });
      continue;
    }
    if (seen.has(id)) {
      problems.push({ policyId: id, message: 'two policies have this id' });
      continue;
    }
    seen.add(id);
    const problem = checkOnePolicy(id, text);
    if (problem !== null) problems.push({ policyId: id, message: problem });
  }
  if (problems.length > 0) throw invalidSet(problems);

  const staticPolicies = Object.fromEntries(policies.map(({ id, text }) => [id, text]));
  const answer = validate({ schema, policies: { staticPolicies }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure') throw invalidSet(answer.errors.map((e) => ({ policyId: null, message: describe(e) })));
  if (answer.validationErrors.length > 0) {
    throw invalidSet(answer.validationErrors.map((e) => ({ policyId: e.policyId, message: describe(e.error) })));
  }
  return { digest: policySetDigest({ schema, policies }), schema, policies };
}

/** Null when `text` is exactly one static policy whose `@id` annotation, if any, is `id`. */
function checkOnePolicy(id: string, text: string): string | null {
  if (typeof text !== 'string' || text.trim() === '') return 'the policy text is empty';
  if (text.length > MAX_POLICY_TEXT) return `the policy text exceeds ${MAX_POLICY_TEXT} characters`;
  const parts = policySetTextToParts(text);
  if (parts.type === 'failure') return parts.errors.map(describe).join('; ');
  if (parts.policy_templates.length > 0) return 'templates (policies with slots) are not supported';
  if (parts.policies.length !== 1) return `the text must hold exactly one policy, it holds ${parts.policies.length}`;
  const json = policyToJson(text);
  if (json.type === 'failure') return json.errors.map(describe).join('; ');
  const annotated = json.json.annotations?.['id'];
  // A policy whose text says one id and whose record says another would be named differently by a reader of
  // the text and by the decisions.
  if (annotated !== undefined && annotated !== id) return `its @id("${annotated}") differs from the id "${id}"`;
  return null;
}

function describe(error: DetailedError): string {
  return error.help ? `${error.message} (${error.help})` : error.message;
}

function invalidSet(problems: PolicySetProblem[]): LedgerError {
  const first = problems[0]!;
  const where = first.policyId === null ? 'Policy set' : `Policy "${first.policyId}"`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return new LedgerError('POLICY.INVALID_SET', 'unprocessable', `${where} is invalid: ${first.message}${more}`, {
    policyId: first.policyId,
    problems,
  });
}

/**
 * Reads `<dir>/schema.cedarschema` and every `<dir>/*.cedar` (one policy each, its id from its `@id`
 * annotation, which is required here) and validates them as one set. Line endings are normalised to LF so a
 * CRLF checkout has the same digest. Throws `POLICY.INVALID_SET` naming the file and policy at fault.
 */
export function loadPolicySetFromDir(dir: string): ValidatedPolicySet {
  const fail = (message: string, policyId: string | null = null): never => {
    throw new LedgerError('POLICY.INVALID_SET', 'unprocessable', `Policy set in ${dir} is invalid: ${message}`, {
      policyId,
      problems: [{ policyId, message }],
    });
  };
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch (error) {
    fail(`cannot read the folder (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!names.includes(SCHEMA_FILE)) fail(`${SCHEMA_FILE} is missing`);
  const schema = readText(join(dir, SCHEMA_FILE));
  const policies: PolicyText[] = [];
  const fileOf = new Map<string, string>();
  for (const name of names) {
    if (!name.endsWith(POLICY_FILE_SUFFIX) || !statSync(join(dir, name)).isFile()) continue;
    const text = readText(join(dir, name));
    const json = policyToJson(text);
    if (json.type === 'failure') {
      // Not one parseable policy: name the file (there is no id to name) and Cedar's message.
      const parts = policySetTextToParts(text);
      const message = parts.type === 'success' && parts.policies.length !== 1
        ? `holds ${parts.policies.length} policies, a policy file holds exactly one`
        : json.errors.map(describe).join('; ');
      fail(`${name}: ${message}`);
    } else {
      const id = json.json.annotations?.['id'];
      if (id === undefined) fail(`${name}: the policy has no @id("…") annotation`);
      if (fileOf.has(id!)) fail(`${name} and ${fileOf.get(id!)} both use @id("${id}")`, id!);
      fileOf.set(id!, name);
      policies.push({ id: id!, text });
    }
  }
  try {
    return validatePolicySet({ schema, policies });
  } catch (error) {
    if (error instanceof LedgerError) {
      const policyId = (error.details['policyId'] as string | null | undefined) ?? null;
      const file = policyId === null ? null : fileOf.get(policyId);
      throw new LedgerError(
        error.code,
        error.category,
        `Policy set in ${dir} is invalid: ${file ? `${file}: ` : ''}${error.message}`,
        error.details,
      );
    }
    throw error;
  }
}

function readText(path: string): string {
  return readFileSync(path, 'utf8').replace(/\r\n/gu, '\n');
}
