import type { RosterAbility, SubjectName } from '@roster/authz';
import { withTenant } from '@roster/db';
import { getRun } from '@roster/engine';
import { getDeployment, getModel, getModelVersion, listRunnerPools } from '@roster/inference';
import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { notFound } from '../../errors.js';
import { getAuditEvent, getAuditExport } from '../../services/audit-presenter.js';
import { DEFAULT_INBOUND_EMAIL_DOMAIN } from '../../services/email-trigger-service.js';
import { connectionById, installationById } from '../../services/installation-presenter.js';
import { getTenant } from '../../services/member-presenter.js';
import {
  getApiKey,
  getEmailTrigger,
  getMember,
  getSchedule,
  getWebhookTrigger,
  getWorkflowVersion,
} from '../../services/node-presenter.js';
import { getPlugin, getPluginVersion } from '../../services/plugin-catalog-presenter.js';
import { reviewTask } from '../../services/review-presenter.js';
import { getWorkflow } from '../../services/workflow-presenter.js';
import { type RequestContext, requireAuth } from '../context.js';
import { parseGlobalId } from '../global-id.js';
import { SignedIn } from '../permissions.js';
import { serviceActorOf } from '../service-actor.js';
import { ApiKey } from '../types/api-key.js';
import { AuditEvent, AuditExport } from '../types/audit.js';
import { Node } from '../types/common.js';
import { EmailTrigger } from '../types/email-trigger.js';
import { Deployment, Model, ModelVersion, RunnerPool } from '../types/inference.js';
import { Connection, Installation, Plugin, PluginVersion } from '../types/marketplace.js';
import { Member } from '../types/member.js';
import { ReviewTask } from '../types/review.js';
import { Run } from '../types/run.js';
import { Tenant } from '../types/tenant.js';
import { Schedule, WebhookTrigger } from '../types/trigger.js';
import { Workflow, WorkflowVersion } from '../types/workflow.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Lookup {
  readonly tenantId: string;
  readonly key: string;
  readonly ctx: RequestContext;
  readonly ability: RosterAbility;
}

/**
 * How node(id) fetches each type with a global id: the ability its own query checks, what a key
 * looks like, and the read (under the caller's tenant, so another tenant's id is NOT_FOUND).
 */
interface NodeType {
  readonly subject: SubjectName;
  readonly key?: RegExp;
  readonly load: (lookup: Lookup) => Promise<Node | null | undefined>;
}

const uuidKey = (key: string) => key.toLowerCase();

const NODE_TYPES: Record<string, NodeType> = {
  Tenant: {
    subject: 'Tenant',
    load: async ({ ctx, tenantId, key }) => {
      const row = uuidKey(key) === tenantId ? await getTenant(ctx.appPool, tenantId) : undefined;
      return row && Tenant.from(row);
    },
  },
  Workflow: {
    subject: 'Workflow',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getWorkflow(ctx.appPool, tenantId, uuidKey(key));
      return row && Workflow.from(row);
    },
  },
  WorkflowVersion: {
    subject: 'WorkflowVersion',
    key: /^[0-9a-f-]{36}:[1-9][0-9]{0,8}$/i,
    load: async ({ ctx, tenantId, key }) => {
      const [workflowId, version] = key.split(':') as [string, string];
      if (!UUID.test(workflowId)) return null;
      const row = await getWorkflowVersion(
        ctx.appPool,
        tenantId,
        uuidKey(workflowId),
        Number(version),
      );
      return row && WorkflowVersion.from(row);
    },
  },
  Run: {
    subject: 'Run',
    load: async ({ ctx, tenantId, key }) => {
      const run = await getRun(ctx.appPool, tenantId, uuidKey(key)).catch((error: unknown) => {
        if ((error as { code?: string }).code === 'NOT_FOUND') return null;
        throw error;
      });
      return run && Run.from(run);
    },
  },
  Member: {
    subject: 'Member',
    load: async ({ ctx, tenantId, key, ability }) => {
      const row = await getMember(ctx.appPool, tenantId, uuidKey(key));
      // Field rules, as in `members`: a role that may not read e-mail addresses gets null.
      return (
        row &&
        Member.from({ ...row, email: ability.can('read', 'Member', 'email') ? row.email : null })
      );
    },
  },
  ApiKey: {
    subject: 'ApiKey',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getApiKey(ctx.appPool, tenantId, uuidKey(key));
      return row && ApiKey.from(row);
    },
  },
  WebhookTrigger: {
    subject: 'WebhookTrigger',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getWebhookTrigger(ctx.appPool, tenantId, uuidKey(key));
      return row && WebhookTrigger.from(row, tenantId);
    },
  },
  Schedule: {
    subject: 'Schedule',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getSchedule(ctx.appPool, tenantId, uuidKey(key));
      return row && Schedule.from(row);
    },
  },
  // E-mail triggers are authorized as WebhookTrigger, like their own queries.
  EmailTrigger: {
    subject: 'WebhookTrigger',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getEmailTrigger(ctx.appPool, tenantId, uuidKey(key));
      return row && EmailTrigger.from(row, ctx.inboundEmailDomain ?? DEFAULT_INBOUND_EMAIL_DOMAIN);
    },
  },
  Model: {
    subject: 'Model',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getModel(ctx.appPool, tenantId, uuidKey(key));
      return row && Model.from(row);
    },
  },
  ModelVersion: {
    subject: 'ModelVersion',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getModelVersion(ctx.appPool, tenantId, uuidKey(key));
      return row && ModelVersion.from(row);
    },
  },
  RunnerPool: {
    subject: 'RunnerPool',
    load: async ({ ctx, tenantId, key }) => {
      const row = (await listRunnerPools(ctx.appPool, tenantId)).find((p) => p.id === uuidKey(key));
      return row && RunnerPool.from(row);
    },
  },
  Deployment: {
    subject: 'Deployment',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getDeployment(ctx.appPool, tenantId, uuidKey(key));
      return row && Deployment.from(row);
    },
  },
  Plugin: {
    subject: 'Plugin',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getPlugin(ctx.appPool, tenantId, uuidKey(key));
      return row && Plugin.from(row);
    },
  },
  PluginVersion: {
    subject: 'Plugin',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getPluginVersion(ctx.appPool, tenantId, uuidKey(key));
      // As the catalog shows them: approved versions only.
      return row?.reviewState === 'approved' ? PluginVersion.from(row) : null;
    },
  },
  Installation: {
    subject: 'Installation',
    load: async ({ ctx, tenantId, key }) => {
      const row = await withTenant(ctx.appPool, tenantId, ({ client }) =>
        installationById(client, tenantId, uuidKey(key)),
      );
      return row && Installation.from(row);
    },
  },
  Connection: {
    subject: 'Connection',
    load: async ({ ctx, tenantId, key }) => {
      const row = await withTenant(ctx.appPool, tenantId, ({ client }) =>
        connectionById(client, tenantId, uuidKey(key)),
      );
      return row && Connection.from(row);
    },
  },
  ReviewTask: {
    subject: 'ReviewTask',
    load: async ({ ctx, key }) => {
      // The review presenter applies the task's record conditions (queues, assignment) and
      // answers NOT_FOUND for an id it does not find.
      const caller = { ...serviceActorOf(ctx), actor: requireAuth(ctx).actor, policy: ctx.policy };
      return ReviewTask.from(await reviewTask(ctx.appPool, caller, uuidKey(key)));
    },
  },
  AuditExport: {
    subject: 'AuditExport',
    load: async ({ ctx, tenantId, key }) => {
      const row = await getAuditExport(ctx.appPool, tenantId, uuidKey(key));
      return row && AuditExport.from(row);
    },
  },
  AuditEvent: {
    subject: 'AuditEvent',
    key: /^[1-9][0-9]{0,17}$/,
    load: async ({ ctx, tenantId, key }) => {
      const row = await getAuditEvent(ctx.appPool, tenantId, key);
      return row && AuditEvent.from(row);
    },
  },
};

/** The types node(id) resolves (their global ids' type names). */
export const NODE_TYPE_NAMES = Object.keys(NODE_TYPES);

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: false,
    description:
      "Any object by its global id, with the ability check of the object's own query. Another tenant's ids are NOT_FOUND.",
  })
  @SignedIn()
  async node(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext): Promise<Node> {
    const { actor, ability } = requireAuth(ctx);
    const parsed = parseGlobalId(id);
    const type = parsed && Object.hasOwn(NODE_TYPES, parsed.type) ? NODE_TYPES[parsed.type] : null;
    if (!parsed || !type || !(type.key ?? UUID).test(parsed.key)) throw notFound('That object');
    ability.assert('read', type.subject);
    const node = await type.load({ tenantId: actor.tenantId, key: parsed.key, ctx, ability });
    if (!node) throw notFound('That object');
    return node;
  }
}
