/**
 * `POST /v1/artifacts` (pipeline): upload an artifact as a raw `application/octet-stream` body (at most
 * `ARTIFACT_MAX_BYTES`, default 256 MiB, after undoing a `Content-Encoding` of gzip or deflate) → 201
 * `{sha256, sizeBytes}`. The body is streamed into the store (hashed and written aside as it arrives), never
 * held whole. Idempotent: the same bytes get the same address. An optional RFC 9530
 * `Content-Digest: sha-256=:<base64>:` is checked (422 ARTIFACT.DIGEST_MISMATCH).
 *
 * `GET /v1/artifacts/:sha256`: streams the bytes back. Any authenticated role of any tenant may fetch by
 * digest: artifacts are content, not tenant records — a digest reveals nothing about the bytes and can only
 * be known from a log entry the caller may read or from the bytes themselves — and the GPU workers fetch the
 * model named by a grant by its digest. What a tenant trained on stays in its own (tenant-isolated) streams.
 */
import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { Roles } from '../../auth/auth.decorators.js';
import { hasBody } from '../../common/http/command-http.js';
import { LedgerError } from '../../common/ledger-error.js';
import { ApiProblems } from '../distillation.http.js';
import { ARTIFACT_MAX_BYTES, ARTIFACT_STORE, artifactTooLarge, emptyArtifact, type ArtifactInfo, type ArtifactStore } from './artifact-store.port.js';

export const OCTET_STREAM = 'application/octet-stream';

/** RFC 9530 §2: `sha-256=:<base64 of 32 bytes>:` among possibly several algorithms. */
const SHA256_MEMBER = /(?:^|,)\s*sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):\s*(?:,|$)/iu;

/** The `sha256:<hex>` a `Content-Digest` header states, or undefined when it states none for SHA-256. */
export function contentDigestSha256(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!/sha-256\s*=/iu.test(value)) return undefined; // other algorithms only: nothing we check
  const match = SHA256_MEMBER.exec(value);
  const bytes = match ? Buffer.from(match[1]!, 'base64') : null;
  if (bytes === null || bytes.length !== 32) {
    throw new LedgerError('ARTIFACT.INVALID_CONTENT_DIGEST', 'bad_request', 'Content-Digest must carry sha-256=:<base64 of 32 bytes>:');
  }
  return `sha256:${bytes.toString('hex')}`;
}

@ApiTags('artifacts')
@ApiBearerAuth()
@Controller('v1/artifacts')
export class ArtifactsController {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(ARTIFACT_MAX_BYTES) private readonly maxBytes: number,
  ) {}

  @Post()
  @HttpCode(201)
  @Roles('pipeline')
  @ApiOperation({ summary: 'Upload an artifact (raw application/octet-stream body); content-addressed by SHA-256, idempotent' })
  @ApiHeader({ name: 'Content-Digest', required: false, description: 'RFC 9530, e.g. sha-256=:<base64>:; checked when present' })
  @ApiConsumes(OCTET_STREAM)
  @ApiBody({ required: true, schema: { type: 'string', format: 'binary' } })
  @ApiResponse({
    status: 201,
    description: 'Stored (or already stored); `Location` names it',
    schema: { type: 'object', properties: { sha256: { type: 'string' }, sizeBytes: { type: 'integer' } }, required: ['sha256', 'sizeBytes'] },
  })
  @ApiProblems(
    'ARTIFACT.EMPTY',
    'ARTIFACT.INVALID_CONTENT_DIGEST',
    'ARTIFACT.DIGEST_MISMATCH',
    'REQUEST.MALFORMED_BODY',
    'REQUEST.BODY_TOO_LARGE',
    'REQUEST.UNSUPPORTED_MEDIA_TYPE',
  )
  async upload(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<ArtifactInfo> {
    if (!hasBody(request)) throw emptyArtifact();
    if (!request.is(OCTET_STREAM)) {
      throw new LedgerError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'unsupported_media_type', `An artifact is uploaded as ${OCTET_STREAM}.`);
    }
    const expectedSha256 = contentDigestSha256(request.headers['content-digest']);
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    const declared = Number(request.headers['content-length']);
    // The bound is on the artifact's bytes: a declared length says so up front unless the body is compressed.
    if (encoding === 'identity' && Number.isFinite(declared) && declared > this.maxBytes) throw artifactTooLarge(this.maxBytes);
    // Read here, after the guard, and streamed to the store as it arrives (hashed and written aside chunk by
    // chunk): an upload of up to ARTIFACT_MAX_BYTES never sits in memory whole.
    const body = decodedBody(request, encoding);
    let stored;
    try {
      stored = await this.store.putStream(readBody(body), { maxBytes: this.maxBytes, ...(expectedSha256 === undefined ? {} : { expectedSha256 }) });
    } catch (error) {
      // Refused before the end (too large, a bad encoding): let the rest of the body drain, so the answer reaches
      // the client.
      if (body !== request) body.destroy();
      request.resume();
      throw error;
    }
    response.setHeader('Location', `/v1/artifacts/${stored.sha256}`);
    response.setHeader('Cache-Control', 'no-store');
    return { sha256: stored.sha256, sizeBytes: stored.sizeBytes };
  }

  @Get(':sha256')
  @ApiOperation({ summary: 'Download an artifact by its address (sha256:<hex>); any authenticated role' })
  @ApiProduces(OCTET_STREAM)
  @ApiResponse({
    status: 200,
    description: 'The exact bytes; `Content-Digest` and `ETag` carry the digest',
    content: { [OCTET_STREAM]: { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiProblems('ARTIFACT.INVALID_DIGEST', 'ARTIFACT.NOT_FOUND')
  async download(@Param('sha256') sha256: string, @Res({ passthrough: true }) response: Response): Promise<StreamableFile> {
    const opened = await this.store.openRead(sha256);
    if (opened === null) throw new LedgerError('ARTIFACT.NOT_FOUND', 'not_found', 'No artifact has this address', { sha256 });
    const hex = sha256.slice('sha256:'.length);
    response.setHeader('Content-Digest', `sha-256=:${Buffer.from(hex, 'hex').toString('base64')}:`);
    response.setHeader('ETag', `"${sha256}"`);
    // The bytes at an address never change; private because only authenticated callers may fetch them.
    response.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return new StreamableFile(opened.stream, { type: OCTET_STREAM, length: opened.sizeBytes });
  }
}

/**
 * The request's body as sent (`encoding` gzip or deflate undone); another encoding is refused (415). Exported
 * for tests.
 */
export function decodedBody(request: Readable, encoding: string): Readable {
  if (encoding === 'identity') return request;
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    throw new LedgerError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'unsupported_media_type', `Content-Encoding ${encoding} is not supported (identity, gzip, deflate).`);
  }
  const decoder = encoding === 'gzip' ? createGunzip() : createInflate();
  request.on('error', (error) => decoder.destroy(error));
  // A corrupt stream fails on its first bytes, which may arrive before the store starts reading (it opens its
  // file first). An 'error' nobody listens to would be thrown from zlib's callback and end the process; with
  // this listener the decoder only keeps the error, and `readBody`'s iteration rethrows it (400).
  decoder.on('error', () => undefined);
  return request.pipe(decoder);
}

/**
 * The body's chunks; a failure to read it (an aborted upload, a corrupt gzip stream) is the client's: 400.
 * Exported for tests.
 */
export async function* readBody(body: Readable): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk as Uint8Array;
  } catch (error) {
    throw new LedgerError('REQUEST.MALFORMED_BODY', 'bad_request', 'The request body could not be read to its end.', {
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
