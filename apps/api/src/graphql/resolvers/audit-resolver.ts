import {
  Arg,
  Ctx,
  Field,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import { badInput, notFound } from '../../errors.js';
import { requestAuditExport, sealAuditDigests } from '../../services/audit-export-service.js';
import {
  encodeEventCursor,
  getAuditExport,
  listAuditDigests,
  listAuditEvents,
  listAuditExports,
} from '../../services/audit-presenter.js';
import type { RequestContext } from '../context.js';
import { uuidFromGlobalId } from '../global-id.js';
import { DEFAULT_PAGE_SIZE, encodeCursor, MAX_PAGE_SIZE, pageRequest } from '../pagination.js';
import { Can } from '../permissions.js';
import { serviceActorOf as actorOf } from '../service-actor.js';
import { AuditDigest, AuditEvent, AuditExport, AuditExportFormat } from '../types/audit.js';
import { Connection } from '../types/connection.js';

export const AuditExportConnection = Connection('AuditExport', AuditExport, (e) =>
  encodeCursor({ createdAt: e.createdAt, id: e.exportId }),
);
export const AuditEventConnection = Connection('AuditEvent', AuditEvent, (e) =>
  encodeEventCursor(e.eventId),
);
export const AuditDigestConnection = Connection('AuditDigest', AuditDigest, (d) => String(d.seq));

@InputType()
class RequestAuditExportInput {
  @Field(() => Date, { description: 'Start of the period (inclusive).' }) from!: Date;
  @Field(() => Date, { description: 'End of the period.' }) to!: Date;
  @Field(() => AuditExportFormat) format!: AuditExportFormat;
}

@ObjectType()
class RequestAuditExportPayload {
  @Field(() => AuditExport) auditExport!: AuditExport;
}

@InputType()
class SealAuditDigestsInput {
  @Field(() => String, { nullable: true, description: 'Why (kept with the audit event).' })
  reason?: string;
}

@ObjectType()
class SealAuditDigestsPayload {
  @Field(() => Boolean, { description: 'A worker seals and signs shortly.' }) queued!: boolean;
}

function limitOf(first: number | undefined): number {
  const limit = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_PAGE_SIZE) {
    throw badInput('first', `first must be a whole number from 0 to ${MAX_PAGE_SIZE}.`);
  }
  return limit;
}

@Resolver()
export class AuditResolver {
  @Mutation(() => RequestAuditExportPayload, {
    description:
      'Exports the audit trail of a period (signed JSONL, or a CSV/PDF made from it). A worker produces the file; poll auditExport until READY, then GET its downloadUrl.',
  })
  @Can('create', 'AuditExport')
  async requestAuditExport(
    @Arg('input', () => RequestAuditExportInput) input: RequestAuditExportInput,
    @Ctx() ctx: RequestContext,
  ) {
    const row = await requestAuditExport(ctx.appPool, actorOf(ctx), {
      from: input.from,
      to: input.to,
      format: input.format as unknown as 'jsonl' | 'csv' | 'pdf',
    });
    return Object.assign(new RequestAuditExportPayload(), { auditExport: AuditExport.from(row) });
  }

  @Mutation(() => SealAuditDigestsPayload, {
    description:
      "Seals the tenant's pending audit events and signs a digest now instead of at the next hour.",
  })
  @Can('create', 'AuditExport')
  async sealAuditDigests(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => SealAuditDigestsInput, { nullable: true }) _input?: SealAuditDigestsInput,
  ) {
    await sealAuditDigests(ctx.appPool, actorOf(ctx));
    return Object.assign(new SealAuditDigestsPayload(), { queued: true });
  }

  @Query(() => AuditExport)
  @Can('read', 'AuditExport')
  async auditExport(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    const { tenantId } = actorOf(ctx);
    const row = await getAuditExport(
      ctx.appPool,
      tenantId,
      uuidFromGlobalId(id, 'AuditExport', 'id'),
    );
    if (!row) throw notFound('That audit export');
    return AuditExport.from(row);
  }

  @Query(() => AuditExportConnection)
  @Can('read', 'AuditExport')
  async auditExports(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const page = await listAuditExports(
      ctx.appPool,
      actorOf(ctx).tenantId,
      pageRequest({ first, after }),
    );
    return AuditExportConnection.from({ ...page, nodes: page.nodes.map(AuditExport.from) });
  }

  @Query(() => AuditEventConnection, {
    description:
      'Audit events, oldest first. `action` is exact, or a prefix ending in "." (e.g. "workflow.").',
  })
  @Can('read', 'AuditEvent')
  async auditEvents(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
    @Arg('action', () => String, { nullable: true }) action?: string,
    @Arg('actorId', () => String, { nullable: true }) actorId?: string,
    @Arg('actorType', () => String, { nullable: true }) actorType?: string,
  ) {
    const page = await listAuditEvents(
      ctx.appPool,
      actorOf(ctx).tenantId,
      {
        from: from ?? null,
        to: to ?? null,
        action: action ?? null,
        actorId: actorId ?? null,
        actorType: actorType ?? null,
      },
      { limit: limitOf(first), after: after ?? null },
    );
    return AuditEventConnection.from({ ...page, nodes: page.nodes.map(AuditEvent.from) });
  }

  @Query(() => AuditDigestConnection, { description: 'Signed digests, newest first.' })
  @Can('read', 'AuditEvent')
  async auditDigests(
    @Ctx() ctx: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const before = after === undefined || after === null ? null : Number(after);
    if (before !== null && !(Number.isInteger(before) && before > 0)) {
      throw badInput(
        'after',
        'after is not a cursor from this list. Pass an endCursor from a previous page.',
      );
    }
    const page = await listAuditDigests(ctx.appPool, actorOf(ctx).tenantId, {
      limit: limitOf(first),
      before,
    });
    return AuditDigestConnection.from({ ...page, nodes: page.nodes.map(AuditDigest.from) });
  }
}
