import { describe, expect, it } from '@jest/globals';
import { ARTIFACT, PROXY_ID, proxyEv, record } from '../distillation/distillation.test-kit.js';
import type { IntegratedEntry, SignedEntry } from '../ledger/entry.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { ProxySnapshotReader, proxySnapshotOf, proxyStream } from './proxy-snapshot.js';
import { refusal } from './query.test-kit.js';

describe('proxySnapshotOf (through the registry fold)', () => {
  it('an empty stream: no proxy', () => {
    expect(proxySnapshotOf([])).toBeNull();
  });

  it('registered: a candidate of the registering tenant, with its artifact digest and metrics', () => {
    expect(proxySnapshotOf(record([proxyEv.registered()]))).toEqual({
      proxyVersionId: PROXY_ID,
      tenant: 'tenant-a',
      stage: 'candidate',
      artifactSha256: ARTIFACT,
      fidelity: 0.9,
      drift: null,
    });
  });

  it('follows promotions, recalibrations, demotions and retirement', () => {
    const up = [proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'), proxyEv.promoted('shadow', 'production'), proxyEv.recalibrated(0.9)];
    expect(proxySnapshotOf(record(up))?.stage).toBe('production');
    expect(proxySnapshotOf(record([...up, proxyEv.recalibrated(0.1, 'recal-2'), proxyEv.demoted('production', 0.1)]))?.stage).toBe('candidate');
    expect(proxySnapshotOf(record([...up, proxyEv.retired('production')]))?.stage).toBe('retired');
    expect(proxySnapshotOf(record(up, 'tenant-b'))?.tenant).toBe('tenant-b');
  });

  it('a stream that does not start with a registration is an internal error, never "not found"', () => {
    expect(refusal(() => proxySnapshotOf(record([proxyEv.promoted('candidate', 'shadow')]))).category).toBe('internal');
  });
});

/** Proxy streams in memory, and every read: which stream, from which revision. */
class ProxyStreams {
  readonly streams = new Map<string, ReturnType<typeof record>>();
  readonly reads: [string, number][] = [];
  readonly store = {
    readStream: async (stream: string, fromRevision = 0): Promise<IntegratedEntry[]> => {
      this.reads.push([stream, fromRevision]);
      return (this.streams.get(stream) ?? [])
        .filter((entry) => entry.revision >= fromRevision)
        .map((entry, i) => ({ position: i, leafHash: '00', entry: entry as unknown as SignedEntry }));
    },
  } as unknown as EventStore;

  /** The proxy's whole stream is now `givens` (earlier revisions unchanged, as an append leaves them). */
  write(id: string, givens: Parameters<typeof record>[0], tenant?: string): void {
    this.streams.set(proxyStream(id), record(givens, tenant));
  }
}

describe('ProxySnapshotReader (the assignment handler keeps the proxy streams it folded)', () => {
  const up = [proxyEv.registered(), proxyEv.promoted('candidate', 'shadow'), proxyEv.promoted('shadow', 'production'), proxyEv.recalibrated(0.9)];

  it('reads a proxy whole once, then only what was appended since, and sees every change', async () => {
    const log = new ProxyStreams();
    const reader = new ProxySnapshotReader(log.store);
    log.write(PROXY_ID, up.slice(0, 2));
    expect((await reader.read([PROXY_ID])).get(PROXY_ID)?.stage).toBe('shadow');
    expect((await reader.read([PROXY_ID, PROXY_ID])).get(PROXY_ID)?.stage).toBe('shadow');
    log.write(PROXY_ID, up);
    const after = await reader.read([PROXY_ID]);
    expect(after.get(PROXY_ID)).toEqual(proxySnapshotOf(record(up)));
    const demoted = [...up, proxyEv.recalibrated(0.1, 'recal-2'), proxyEv.demoted('production', 0.1)];
    log.write(PROXY_ID, demoted);
    expect((await reader.read([PROXY_ID])).get(PROXY_ID)).toEqual(proxySnapshotOf(record(demoted)));
    expect(log.reads.map(([, from]) => from)).toEqual([0, 2, 2, 4]);
  });

  it('a proxy not registered yet is absent, and present once it is', async () => {
    const log = new ProxyStreams();
    const reader = new ProxySnapshotReader(log.store);
    expect((await reader.read(['p-later'])).has('p-later')).toBe(false);
    expect(reader.size).toBe(0);
    log.write('p-later', [proxyEv.registered({ proxyVersionId: 'p-later' })], 'tenant-b');
    expect((await reader.read(['p-later'])).get('p-later')).toMatchObject({ proxyVersionId: 'p-later', tenant: 'tenant-b', stage: 'candidate' });
  });

  it('keeps at most maxProxies states: the oldest half goes, and a forgotten proxy is read whole again', async () => {
    const log = new ProxyStreams();
    const reader = new ProxySnapshotReader(log.store, 2);
    for (const id of ['p-1', 'p-2', 'p-3']) log.write(id, [proxyEv.registered({ proxyVersionId: id })]);
    await reader.read(['p-1', 'p-2', 'p-3']);
    expect(reader.size).toBe(2);
    log.reads.length = 0;
    expect((await reader.read(['p-1'])).get('p-1')?.proxyVersionId).toBe('p-1');
    expect(log.reads).toEqual([[proxyStream('p-1'), 0]]);
    expect(() => new ProxySnapshotReader(log.store, 0)).toThrow(TypeError);
  });

  it('a corrupt continuation is still an internal error', async () => {
    const log = new ProxyStreams();
    const reader = new ProxySnapshotReader(log.store);
    log.write(PROXY_ID, [proxyEv.registered()]);
    await reader.read([PROXY_ID]);
    log.write(PROXY_ID, [proxyEv.registered(), proxyEv.promoted('shadow', 'production')]);
    await expect(reader.read([PROXY_ID])).rejects.toMatchObject({ code: 'PROXY.CORRUPT_STREAM', category: 'internal' });
  });
});
