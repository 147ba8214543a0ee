import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { contentDigestSha256 } from './artifacts.controller.js';

const b64 = (text: string) => createHash('sha256').update(text).digest('base64');
const hex = (text: string) => createHash('sha256').update(text).digest('hex');

describe('Content-Digest (RFC 9530) on upload', () => {
  it('absent, or stating other algorithms only: nothing to check', () => {
    expect(contentDigestSha256(undefined)).toBeUndefined();
    expect(contentDigestSha256('sha-512=:AAAA:')).toBeUndefined();
  });

  it('reads sha-256 among several members, in any case and spacing', () => {
    expect(contentDigestSha256(`sha-256=:${b64('x')}:`)).toBe(`sha256:${hex('x')}`);
    expect(contentDigestSha256(`sha-512=:AAAA:, SHA-256 = :${b64('y')}:`)).toBe(`sha256:${hex('y')}`);
    expect(contentDigestSha256(['sha-512=:AAAA:', `sha-256=:${b64('z')}:`])).toBe(`sha256:${hex('z')}`);
  });

  it.each(['sha-256=:abc:', 'sha-256=abc', `sha-256=:${b64('x')}`, 'sha-256=:!!:'])('refuses a malformed sha-256 member (%s)', (header) => {
    expect(() => contentDigestSha256(header)).toThrow(expect.objectContaining({ code: 'ARTIFACT.INVALID_CONTENT_DIGEST' }));
  });
});
