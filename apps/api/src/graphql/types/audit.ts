import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type {
  AuditDigestRow,
  AuditEventRow,
  AuditExportRow,
} from '../../services/audit-presenter.js';
import { toGlobalId } from '../global-id.js';
import { Node } from './common.js';

export enum AuditExportFormat {
  JSONL = 'jsonl',
  CSV = 'csv',
  PDF = 'pdf',
}
registerEnumType(AuditExportFormat, {
  name: 'AuditExportFormat',
  description:
    'JSONL is the signed export `roster audit verify` checks offline; CSV and PDF are made from it after it verified.',
});

export enum AuditExportStatus {
  PENDING = 'pending',
  READY = 'ready',
  FAILED = 'failed',
}
registerEnumType(AuditExportStatus, { name: 'AuditExportStatus' });

/** Where a READY export is downloaded (GET, with the same Authorization header). */
export const auditExportDownloadPath = (globalId: string) => `/audit/exports/${globalId}`;

@ObjectType({
  implements: Node,
  description: "A compliance officer's export of the audit trail for a period.",
})
export class AuditExport {
  exportId!: string;

  @Field(() => ID) id!: string;
  @Field(() => AuditExportFormat) format!: AuditExportFormat;
  @Field(() => Date) from!: Date;
  @Field(() => Date) to!: Date;
  @Field(() => AuditExportStatus) status!: AuditExportStatus;
  @Field(() => Int, { nullable: true }) byteSize!: number | null;
  @Field(() => Int, { nullable: true }) eventCount!: number | null;
  @Field(() => String, { nullable: true, description: 'Why a FAILED export failed.' })
  error!: string | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true }) completedAt!: Date | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Path on this API to GET the file once READY (send the same Authorization header).',
  })
  downloadUrl!: string | null;

  static from(row: AuditExportRow): AuditExport {
    const id = toGlobalId('AuditExport', row.id);
    return Object.assign(new AuditExport(), {
      exportId: row.id,
      id,
      format: row.format as AuditExportFormat,
      from: row.from,
      to: row.to,
      status: row.status as AuditExportStatus,
      byteSize: row.byteSize,
      eventCount: row.eventCount,
      error: row.error,
      createdAt: row.createdAt,
      completedAt: row.completedAt,
      downloadUrl: row.status === 'ready' ? auditExportDownloadPath(id) : null,
    });
  }
}

@ObjectType({
  implements: Node,
  description: 'One append-only record of a change, decision or side effect.',
})
export class AuditEvent {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'The event id as in exports.' }) eventId!: string;
  @Field(() => Date) occurredAt!: Date;
  @Field(() => String) action!: string;
  @Field(() => String) actorType!: string;
  @Field(() => String) actorId!: string;
  @Field(() => String, { nullable: true }) subjectType!: string | null;
  @Field(() => String, { nullable: true }) subjectId!: string | null;
  @Field(() => String, { nullable: true }) runId!: string | null;
  @Field(() => String, { nullable: true }) traceId!: string | null;
  @Field(() => String, { nullable: true }) requestId!: string | null;
  @Field(() => GraphQLJSON, { nullable: true }) data!: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) before!: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) after!: unknown;
  @Field(() => Int, {
    nullable: true,
    description: "Place in the tenant's hash chain; null until the hourly seal.",
  })
  seq!: number | null;

  static from(row: AuditEventRow): AuditEvent {
    return Object.assign(new AuditEvent(), {
      ...row,
      id: toGlobalId('AuditEvent', row.id),
      eventId: row.id,
    });
  }
}

@ObjectType({ description: "A signed statement of the tenant's audit chain head at a time." })
export class AuditDigest {
  @Field(() => Int) seq!: number;
  @Field(() => Int) headSeq!: number;
  @Field(() => String) headHash!: string;
  @Field(() => String, { nullable: true }) previousDigestHash!: string | null;
  @Field(() => Date) periodStart!: Date;
  @Field(() => Date) periodEnd!: Date;
  @Field(() => Date) signedAt!: Date;
  @Field(() => String, { description: "SHA-256 of the signing key's public key." })
  keyId!: string;
  @Field(() => String, { description: 'The signed digest as canonical JSON (verify offline).' })
  record!: string;

  static from(row: AuditDigestRow): AuditDigest {
    const d = row.digest;
    return Object.assign(new AuditDigest(), {
      seq: row.seq,
      headSeq: d.headSeq,
      headHash: d.headHash,
      previousDigestHash: d.previousDigestHash,
      periodStart: new Date(d.periodStart),
      periodEnd: new Date(d.periodEnd),
      signedAt: new Date(d.signedAt),
      keyId: d.keyId,
      record: row.record,
    });
  }
}
