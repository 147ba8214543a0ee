import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { contentDigestSha256, decodedBody, readBody } from './artifacts.controller.js';

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

describe('upload body', () => {
  const collect = async (chunks: AsyncIterable<Uint8Array>) => {
    const all: Uint8Array[] = [];
    for await (const chunk of chunks) all.push(chunk);
    return Buffer.concat(all);
  };

  it('decodes gzip and deflate as the chunks arrive', async () => {
    for (const encode of [gzipSync, deflateSync]) {
      const source = new PassThrough();
      const body = decodedBody(source, encode === gzipSync ? 'gzip' : 'deflate');
      source.end(encode(Buffer.from('weights '.repeat(100))));
      expect((await collect(readBody(body))).toString()).toBe('weights '.repeat(100));
    }
  });

  it('a corrupt gzip body that fails before anyone reads it is a 400 when read, not an unhandled error', async () => {
    const source = new PassThrough();
    const body = decodedBody(source, 'gzip');
    source.end(Buffer.from('these bytes are not gzip'));
    // The decoder fails while nothing reads yet, as when the store is still opening its file.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(body.destroyed).toBe(true);
    await expect(collect(readBody(body))).rejects.toMatchObject({ code: 'REQUEST.MALFORMED_BODY', details: { reason: expect.stringContaining('incorrect header check') } });
  });

  it('refuses an encoding it does not decode (415)', () => {
    expect(() => decodedBody(new PassThrough(), 'br')).toThrow(expect.objectContaining({ code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE' }));
  });
});
