import { Module } from '@nestjs/common';
import { CheckpointController } from './checkpoint/checkpoint.controller.js';
import { JwksController } from './jwks/jwks.controller.js';
import { ProofsController } from './proofs/proofs.controller.js';
import { ReadEntriesController } from './read-entries/read-entries.controller.js';
import { KeyAdminController } from '../keys/key-admin.controller.js';

/** Auditor-facing reads of the log (entries, checkpoints, proofs, keys) and the admin key operations. */
@Module({
  controllers: [ReadEntriesController, CheckpointController, ProofsController, JwksController, KeyAdminController],
})
export class AuditModule {}
