/**
 * The teacher of a run, derived from its transcripts (docs/ida-domain.md, "Teacher"), never declared by the
 * client: what the student imitates is whoever actually answered in the training set.
 *
 * - `proxyVersionIds`: sorted distinct proxy versions whose inference answered a node — a single proxy's
 *   `InferenceCompleted` at or above the query's confidence threshold (below it the node was escalated, so the
 *   proxy did not answer it), and every member of an `EnsembleAnswerAggregated` at or above the threshold.
 * - `humanPool`: sorted distinct `actor.sub` of `HumanAnswerRecorded` / `HumanOverrideRecorded`.
 *
 * Reads the raw entries (not the amplification state) so that it depends only on the event fields the contract
 * names; those fields are validated, and a malformed one is a defect (`DISTILLATION.TRANSCRIPT_INVALID`, 500).
 * Plain TypeScript: no Nest, no storage.
 */
import { sortedDistinct } from '../../common/domain-values.js';
import { badEventOf, Fields } from '../../common/events/stored-event-fields.js';
import type { JsonObject } from '../../ledger/entry.js';
import type { TeacherData } from './run.events.js';

/** What the derivation reads of a transcript entry; a `SignedEntry` satisfies it. */
export type TranscriptEntry = { type: string; data: JsonObject; meta: { actor: { sub: string } } };

const bad = badEventOf('DISTILLATION.TRANSCRIPT_INVALID');

export function deriveTeacher(transcripts: readonly (readonly TranscriptEntry[])[]): TeacherData {
  const proxies: string[] = [];
  const humans: string[] = [];
  for (const entries of transcripts) {
    let threshold: number | null = null;
    /** jobId -> requested as part of an ensemble. */
    const ensembleJobs = new Map<string, boolean>();
    for (const entry of entries) {
      const f = (): Fields => new Fields(entry.type, entry.data, bad);
      switch (entry.type) {
        case 'AmplificationQueryOpened':
          threshold = f().unit('confidenceThreshold');
          break;
        case 'InferenceRequested':
          ensembleJobs.set(f().id('jobId'), f().bool('ensemble'));
          break;
        case 'InferenceCompleted': {
          const fields = f();
          // An ensemble member answers only through the aggregate (below).
          if (ensembleJobs.get(fields.id('jobId')) === true) break;
          if (threshold !== null && fields.unit('confidence') >= threshold) proxies.push(fields.id('proxyVersionId'));
          break;
        }
        case 'EnsembleAnswerAggregated': {
          const fields = f();
          if (threshold !== null && fields.unit('confidence') >= threshold) {
            for (const member of fields.objects('members')) proxies.push(member.id('proxyVersionId'));
          }
          break;
        }
        case 'HumanAnswerRecorded':
        case 'HumanOverrideRecorded': {
          const sub = entry.meta?.actor?.sub;
          if (typeof sub !== 'string') throw bad(entry.type, 'meta.actor.sub must be a string');
          humans.push(sub);
          break;
        }
        default:
          // Every other event (decomposition, composition, escalation, ...) says nothing about who answered.
          break;
      }
    }
  }
  return { proxyVersionIds: sortedDistinct(proxies), humanPool: sortedDistinct(humans) };
}
